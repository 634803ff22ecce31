// Editing channel settings from the console: a value `clawgate start` would refuse is refused with the key path
// and leaves the file as it was; a good one is written and applied at once (the LINE webhook answers without a
// restart); secrets are write-only (the masked text sent back keeps the stored secret). And the effective
// configuration with where each key came from.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { api, signIn } from "./helpers.ts";

const TOKEN = "console-config-admin-token";
const SECRET = "line-channel-secret-for-console";
const ALICE = lineId("U", "alice");
const BOB = lineId("U", "bob");

describe("channel settings from the console", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let line: FakeLine;
  let cookie: string;
  let seq = 0;
  const file = () => join(gw.dir, "clawgate.json");
  const webhook = async (userId = ALICE) => {
    const body = JSON.stringify({
      destination: "Ubot",
      events: [lineTextEvent({ text: `hi ${++seq}`, userId })],
    });
    const res = await fetch(`${gw.url}/line/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(SECRET, body) },
      body,
    });
    return { status: res.status, text: `hi ${seq}` };
  };
  const answered = (text: string) =>
    waitFor(
      () => line.calls.some((c) => c.body.messages.some((m) => m.text === `echo: ${text}`)),
      10_000,
      text,
    );

  before(async () => {
    agent = await new FakeAgent().start();
    line = await new FakeLine().start();
    gw = await startTestGateway({
      config: { adminToken: TOKEN, agentUrl: agent.url, agent: { stream: false } },
      env: { CLAWGATE_HISTORY_TURNS: "7" },
    });
    cookie = await signIn(gw.url, TOKEN);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
    await line.stop();
  });

  it("a value start would refuse is refused with its key path; the file is not touched", async () => {
    const before = readFileSync(file(), "utf8");
    const r = await api(gw.url, "PUT", "/admin/api/config/channels/line", {
      cookie,
      body: { channelSecret: "", channelAccessToken: line.token, apiBase: line.url },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.ok, false);
    assert.match(String(r.json.error), /^channels\.line was not saved: channels\.line\.channelSecret/);
    assert.ok((r.json.problems as string[]).some((p) => p.startsWith("channels.line.channelSecret")));
    assert.equal(readFileSync(file(), "utf8"), before);
    assert.equal((await webhook()).status, 404, "no LINE channel");

    const unknown = await api(gw.url, "PUT", "/admin/api/config/channels/nosuch", { cookie, body: {} });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json.error), /unknown channel "nosuch"/);
    const notJson = await api(gw.url, "PUT", "/admin/api/config/channels/line", { cookie, body: [1] });
    assert.equal(notJson.status, 400);
    assert.equal(readFileSync(file(), "utf8"), before);
  });

  it("a good value is written and applied without a restart: the LINE webhook answers", async () => {
    const r = await api(gw.url, "PUT", "/admin/api/config/channels/line", {
      cookie,
      body: {
        channelSecret: SECRET,
        channelAccessToken: line.token,
        apiBase: line.url,
        allowedUsers: [ALICE],
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.channels, [{ channel: "line", account: "default", change: "added" }]);
    const written = JSON.parse(readFileSync(file(), "utf8"));
    assert.deepEqual(written.channels.line, {
      channelSecret: SECRET,
      channelAccessToken: line.token,
      apiBase: line.url,
      allowedUsers: [ALICE],
    });
    const sent = await webhook();
    assert.equal(sent.status, 200);
    await answered(sent.text);
  });

  it("secrets come back masked, and sending the masked text back keeps the stored secret", async () => {
    const got = await api(gw.url, "GET", "/admin/api/config/channels", { cookie });
    assert.equal(got.status, 200);
    const section = (got.json.channels as Record<string, Record<string, unknown>>).line!;
    assert.ok(!got.text.includes(SECRET), "no secret in the answer");
    assert.ok(!got.text.includes(line.token), "no access token in the answer");
    assert.equal(section.channelSecret, `li…(${SECRET.length} chars, masked)`);
    const r = await api(gw.url, "PUT", "/admin/api/config/channels/line", {
      cookie,
      body: { ...section, allowedUsers: [ALICE, BOB] },
    });
    assert.equal(r.status, 200, r.text);
    // (ChannelSet.apply names a replaced account "added": it forgets the fingerprint before it asks.)
    const [change] = r.json.channels as { channel: string; account: string }[];
    assert.deepEqual([change?.channel, change?.account], ["line", "default"]);
    const written = JSON.parse(readFileSync(file(), "utf8"));
    assert.equal(written.channels.line.channelSecret, SECRET);
    assert.equal(written.channels.line.channelAccessToken, line.token);
    const sent = await webhook(BOB);
    assert.equal(sent.status, 200, "still verified with the stored secret");
    await answered(sent.text);

    const placeholder = await api(gw.url, "PUT", "/admin/api/config/channels/line?account=second", {
      cookie,
      body: { channelSecret: "********" },
    });
    assert.equal(placeholder.status, 400);
    assert.match(String(placeholder.json.error), /send the secret itself/);
  });

  it("every edit is audited; DELETE removes the channel and stops it", async () => {
    const r = await api(gw.url, "DELETE", "/admin/api/config/channels/line", { cookie });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.channels, [{ channel: "line", account: "default", change: "removed" }]);
    assert.deepEqual(JSON.parse(readFileSync(file(), "utf8")).channels, {});
    assert.equal((await webhook()).status, 404);
    const missing = await api(gw.url, "DELETE", "/admin/api/config/channels/line", { cookie });
    assert.equal(missing.status, 404);
    const entries = await waitFor(async () => {
      const e = (await api(gw.url, "GET", "/admin/api/audit", { cookie })).json.entries as Record<
        string,
        unknown
      >[];
      return e.filter((x) => String(x.path).startsWith("/admin/api/config/channels")).length >= 6 && e;
    });
    const edits = entries
      .filter((x) => String(x.path).startsWith("/admin/api/config/channels"))
      .map((x) => `${x.method} ${x.status} ${x.summary ?? ""}`.trim());
    assert.deepEqual(edits.slice(0, 4), [
      "DELETE 404",
      "DELETE 200 channels.line removed",
      "PUT 400",
      "PUT 200 channels.line saved",
    ]);
  });

  it("GET /admin/api/config: the effective config, secrets masked, and where each key came from", async () => {
    const r = await api(gw.url, "GET", "/admin/api/config", { cookie });
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes(TOKEN), "the admin token is masked");
    const config = r.json.config as Record<string, Record<string, unknown>>;
    assert.equal(config.agent!.historyTurns, 7);
    const sources = r.json.sources as Record<string, string>;
    assert.equal(sources["agent.historyTurns"], "env");
    assert.equal(sources["server.port"], "file");
    assert.equal(sources.adminToken, "file");
    assert.equal(sources.logLevel, "default");
  });
});

it("config sources: a flag wins over env, env over the file, the file over the default", () => {
  const dir = tempDir();
  const path = join(dir, "clawgate.json");
  writeFileSync(
    path,
    JSON.stringify({ server: { port: 8100, host: "127.0.0.1" }, agent: { historyTurns: 3 } }),
  );
  const loaded = loadConfig({
    cwd: dir,
    env: { CLAWGATE_PORT: "8200", CLAWGATE_HISTORY_TURNS: "5" },
    port: 8300,
    channelEnv: channelEnvMappers(),
  });
  assert.equal(loaded.config.server.port, 8300);
  assert.equal(loaded.sources["server.port"], "flag");
  assert.equal(loaded.sources["agent.historyTurns"], "env");
  assert.equal(loaded.sources["server.host"], "file");
  assert.equal(loaded.sources["limits.answerChars"], "default");
});

it("channel and account names that would reach an object's prototype are refused", async () => {
  const gw = await startTestGateway({ config: { adminToken: TOKEN } });
  try {
    const cookie = await signIn(gw.url, TOKEN);
    const before = readFileSync(join(gw.dir, "clawgate.json"), "utf8");
    for (const path of [
      "/admin/api/config/channels/line?account=__proto__",
      "/admin/api/config/channels/line?account=constructor",
      "/admin/api/config/channels/__proto__",
    ]) {
      const r = await api(gw.url, "PUT", path, {
        cookie,
        body: { channelSecret: "x", channelAccessToken: "y" },
      });
      assert.equal(r.status, 400, `${path}: ${r.text}`);
    }
    const del = await api(gw.url, "DELETE", "/admin/api/config/channels/line?account=__proto__", { cookie });
    assert.equal(del.status, 400);
    assert.equal(({} as Record<string, unknown>).enabled, undefined);
    assert.equal(readFileSync(join(gw.dir, "clawgate.json"), "utf8"), before);
  } finally {
    await gw.stop();
  }
});
