import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addChannel,
  type ChannelRow,
  listChannels,
  parseSettingArgs,
  removeChannel,
  writeFileAtomic,
} from "../../src/cli/channels.ts";
import { configSchema } from "../../src/config/schema.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { signedQuery, wechatMessageXml } from "../fakes/wechat.ts";
import { clawgate } from "../helpers/cli.ts";
import { startTestGateway, type TestGateway, tempDir } from "../helpers/gateway.ts";

const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, "clawgate.json"), "utf8"));

describe("clawgate channels add | remove | list", () => {
  test("add writes the section (new file private), list shows listener and agent URL", async () => {
    const dir = tempDir();
    const added = await clawgate(
      dir,
      "channels",
      "add",
      "--channel",
      "sms",
      "--accountSid",
      `AC${"1".repeat(32)}`,
      "--authToken",
      "super-secret-token-value",
      "--from=+15550001111",
      "--allowedUsers",
      '["+15551230001"]',
      "--listen.port",
      "8094",
      "--agentUrl",
      "http://10.0.0.5:8080/v1/chat/completions",
    );
    assert.equal(added.code, 0, added.stderr);
    assert.doesNotMatch(added.stdout, /super-secret-token-value/, "secrets are masked in the output");
    assert.deepEqual(readJson(dir).channels.sms, {
      enabled: true,
      accountSid: `AC${"1".repeat(32)}`,
      authToken: "super-secret-token-value",
      from: "+15550001111",
      allowedUsers: ["+15551230001"],
      listen: { port: 8094 },
      agentUrl: "http://10.0.0.5:8080/v1/chat/completions",
    });
    assert.equal(statSync(join(dir, "clawgate.json")).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      [],
      "no temp files left behind",
    );

    const list = await clawgate(dir, "channels", "list", "--json");
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as ChannelRow[];
    const sms = rows.find((r) => r.channel === "sms");
    assert.equal(sms?.account, "default");
    assert.equal(sms?.agentUrl, "http://10.0.0.5:8080/v1/chat/completions");
    assert.match(sms?.listener ?? "", /127\.0\.0\.1:8094/);
  });

  test("channels list hides disabled accounts unless --all, and shows each one's effective agent URL", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "clawgate.json"),
      JSON.stringify({
        agentUrl: "http://10.0.0.9:11434/v1/chat/completions",
        channels: { slack: { enabled: false, botToken: "xoxb-1", signingSecret: "s" } },
      }),
    );
    const plain = await clawgate(dir, "channels", "list");
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /^slack\//m);
    assert.match(plain.stdout, /1 disabled not shown: --all lists them/);
    const all = await clawgate(dir, "channels", "list", "--all");
    assert.match(
      all.stdout,
      /^slack\/default \(disabled\)\n {2}listener: .*\n {2}agentUrl: http:\/\/10\.0\.0\.9:11434/m,
    );
  });

  test("a channel no module provides is refused with the known channels and how to add one", async () => {
    const dir = tempDir();
    const added = await clawgate(dir, "channels", "add", "--channel", "dingtalk", "--clientId", "ding");
    assert.equal(added.code, 1);
    assert.match(
      added.stderr,
      /unknown channel "dingtalk"; known: webchat, slack, line, .*telegram, discord/,
    );
    assert.match(added.stderr, /add a plugin: docs\/plugins\.md/);
    assert.equal(existsSync(join(dir, "clawgate.json")), false, "nothing written");
  });

  test("an edit that would make the config invalid is refused and the file is left as it was", async () => {
    const dir = tempDir();
    const original = `${JSON.stringify({ agentUrl: "http://127.0.0.1:1/v1/chat/completions", channels: {} }, null, 2)}\n`;
    writeFileSync(join(dir, "clawgate.json"), original);
    const bad = await clawgate(dir, "channels", "add", "--channel", "kakao", "--agentUrl", "not a url");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /channels\.kakao\.agentUrl/);
    assert.equal(readFileSync(join(dir, "clawgate.json"), "utf8"), original);
  });

  test("accounts: adding a second account keeps the default one; removing accounts, then the channel", () => {
    const doc: Record<string, unknown> = {};
    addChannel(doc, "wechat", undefined, parseSettingArgs(["--token", "t1", "--appId", "wx1"]));
    addChannel(
      doc,
      "wechat",
      "ops",
      parseSettingArgs(["--token=t2", "--path", "/wechat/ops", "--passiveReplyMs", "3000"]),
    );
    const wechat = (doc.channels as Record<string, Record<string, unknown>>).wechat!;
    assert.deepEqual(wechat.accounts, {
      default: {},
      ops: { enabled: true, token: "t2", path: "/wechat/ops", passiveReplyMs: "3000" },
    });
    const rows = listChannels(configSchema.parse(doc));
    assert.deepEqual(
      rows.filter((r) => r.channel === "wechat").map((r) => `${r.account}:${r.path ?? "-"}`),
      ["default:-", "ops:/wechat/ops"],
    );
    assert.equal(removeChannel(doc, "wechat", "ops"), "wechat/ops");
    assert.deepEqual(Object.keys(wechat.accounts as object), ["default"]);
    assert.equal(removeChannel(doc, "wechat", "default"), "channel wechat");
    assert.deepEqual(doc.channels, {});
  });

  test("setting arguments: booleans, JSON, dotted keys", () => {
    assert.deepEqual(
      parseSettingArgs(["--enabled", "false", "--x", "--listen.host", "0.0.0.0", "--ids", "[1,2]"]),
      {
        enabled: false,
        x: true,
        listen: { host: "0.0.0.0" },
        ids: [1, 2],
      },
    );
  });

  test("atomic write replaces the file and keeps its mode", async () => {
    const dir = tempDir();
    const path = join(dir, "clawgate.json");
    writeFileSync(path, "{}", { mode: 0o640 });
    await writeFileAtomic(path, '{"a":1}\n');
    assert.equal(readFileSync(path, "utf8"), '{"a":1}\n');
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ["clawgate.json"]);
  });
});

describe("clawgate channels status", () => {
  let agent: FakeAgent;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        channels: { wechat: { token: "cli-token", allowedUsers: ["openid_alice"] } },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
  });

  test("shows each running channel with its last inbound, last outbound and last error", async () => {
    const res = await fetch(`${gw.url}/wechat/webhook?${signedQuery("cli-token")}`, {
      method: "POST",
      body: wechatMessageXml({ content: "status check" }),
    });
    assert.equal(res.status, 200);
    const port = String(new URL(gw.url).port);
    const json = await clawgate(
      gw.dir,
      "--port",
      port,
      "channels",
      "status",
      "--channel",
      "wechat",
      "--json",
    );
    assert.equal(json.code, 0, json.stderr);
    const [wechat] = JSON.parse(json.stdout) as { channel: string; status: string; lastInboundAt?: number }[];
    assert.equal(wechat?.channel, "wechat");
    assert.equal(wechat?.status, "running");
    assert.ok(wechat?.lastInboundAt && Date.now() - wechat.lastInboundAt < 60_000);
    const text = await clawgate(gw.dir, "--port", port, "channels", "status");
    assert.match(text.stdout, /wechat\/default: running/);
    assert.match(text.stdout, /last inbound: +\d+ s ago/);
    assert.match(text.stdout, /last outbound: +(\d+ s ago|never)/);
  });

  test("tells the user when the gateway is not running", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "clawgate.json"), JSON.stringify({ server: { port: 1 } }));
    const r = await clawgate(dir, "channels", "status");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Is `clawgate start` running\?/);
  });
});
