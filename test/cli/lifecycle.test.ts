// Operating a running gateway without restarting it, as an operator would: edit the config file and run
// `clawgate reload` (or send SIGHUP), stop and start one channel, restart, stop. The gateway is a real
// `clawgate start` process; the LINE platform is its fake; a web chat stream stays open across the reloads to
// show that a channel that did not change is not touched.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { clawgate } from "../helpers/cli.ts";
import { type ChildGateway, startChildGateway, waitFor } from "../helpers/gateway.ts";

const SECRET = "line-channel-secret-for-reload";
const ALICE = lineId("U", "alice");

describe("changes without restarts", () => {
  let line: FakeLine;
  let agent: FakeAgent;
  let gw: ChildGateway;
  let port: string;
  const configPath = () => join(gw.dir, "clawgate.json");
  const editConfig = (edit: (c: Record<string, unknown>) => void) => {
    const c = JSON.parse(readFileSync(configPath(), "utf8"));
    edit(c);
    writeFileSync(configPath(), JSON.stringify(c, null, 2));
  };
  const cli = (...args: string[]) => clawgate(gw.dir, "--port", port, ...args);
  let seq = 0;
  const lineWebhook = async () => {
    const body = JSON.stringify({
      destination: "Ubot",
      events: [lineTextEvent({ text: `hi ${++seq}`, userId: ALICE })],
    });
    return fetch(`${gw.url}/line/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(SECRET, body) },
      body,
    });
  };

  before(async () => {
    line = await new FakeLine().start();
    agent = await new FakeAgent().start();
    // A fixed port, as a deployment has: `clawgate restart` opens the listener again on it.
    gw = await startChildGateway({
      config: { agentUrl: agent.url, agent: { stream: false } },
      port: await freePort(),
    });
    port = new URL(gw.url).port;
  });
  after(async () => {
    if (process.env.DEBUG_LIFECYCLE) console.log(gw?.output());
    await gw?.kill();
    await line?.stop();
    await agent?.stop();
  });

  it("reload adds a channel without touching the web chat; a config that does not validate changes nothing", async () => {
    // A live web chat stream: it must survive every reload below.
    const stream = await fetch(`${gw.url}/api/threads/reload-test/events`, {
      headers: { accept: "text/event-stream" },
    });
    assert.equal(stream.status, 200);
    assert.equal((await lineWebhook()).status, 404, "no LINE channel yet");

    editConfig((c) => {
      c.channels = {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          apiBase: line.url,
          allowedUsers: [ALICE],
        },
      };
    });
    const reload = await cli("reload");
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /^line\/default: added$/m);
    assert.equal((await lineWebhook()).status, 200);
    await waitFor(
      () => line.calls.some((c) => c.body.messages.some((m) => m.text === `echo: hi ${seq}`)),
      10_000,
      "the LINE answer",
    );

    editConfig((c) => {
      (c.channels as Record<string, Record<string, unknown>>).line!.channelSecret = "";
    });
    const bad = await cli("reload");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not applied.*channels\.line\.channelSecret/s);
    assert.equal((await lineWebhook()).status, 200, "the running LINE channel is untouched");
    assert.equal(stream.body?.locked, false);
    const reader = stream.body!.getReader();
    const read = await Promise.race([reader.read(), new Promise((r) => setTimeout(() => r("open"), 200))]);
    assert.equal(
      read === "open" || (read as { done: boolean }).done === false,
      true,
      "the web chat stream is still open",
    );
    await reader.cancel();
  });

  it("channels stop and start one account; status shows its state and agent URL", async () => {
    editConfig((c) => {
      const line = (c.channels as Record<string, Record<string, unknown>>).line!;
      line.channelSecret = SECRET;
      line.allowedUsers = [ALICE, lineId("U", "bob")];
    });
    const changed = await cli("reload");
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /^line\/default: changed$/m);
    const stop = await cli("channels", "stop", "line");
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /line\/default: stopped/);
    assert.equal((await lineWebhook()).status, 404, "a stopped channel takes no webhooks");
    const status = await cli("channels", "status");
    assert.match(status.stdout, /line\/default: stopped/);
    assert.match(status.stdout, new RegExp(`agent: +${agent.url.replace(/[/.]/g, "\\$&")}`));
    assert.equal((await cli("channels", "start", "line")).code, 0);
    assert.equal((await lineWebhook()).status, 200);
    const unknown = await cli("channels", "restart", "nosuch");
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no channel account nosuch:default is configured/);
  });

  it("SIGHUP applies a removed channel; restart reads the whole file again; stop ends the process", async () => {
    editConfig((c) => {
      c.channels = {};
    });
    gw.proc.kill("SIGHUP");
    await waitFor(async () => (await lineWebhook()).status === 404, 10_000, "the LINE channel to be removed");

    editConfig((c) => {
      c.agent = { stream: false, systemPrompt: "You are the restarted gateway." };
    });
    const restart = await cli("restart");
    assert.equal(restart.code, 0, restart.stderr);
    await waitFor(
      async () => {
        const res = await fetch(`${gw.url}/api/threads/after-restart/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "hello again" }),
        }).catch(() => undefined);
        return res?.ok;
      },
      15_000,
      "the restarted gateway to take a message",
    );
    await waitFor(() =>
      agent.requests.some((r) => r.body.messages[0]?.content === "You are the restarted gateway."),
    );

    const stop = await cli("stop");
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await gw.kill("SIGCONT"), 0, "the process exits 0 after draining");
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
