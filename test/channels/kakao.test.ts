import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  callbackAllowed,
  KAKAO_CALLBACK_HOSTS,
  parseHostRules,
} from "../../src/channels/kakao/callback-hosts.ts";
import { SHORTENED_NOTE, skillResponse } from "../../src/channels/kakao/format.ts";
import { kakaoFromEnv, kakaoModule } from "../../src/channels/kakao/index.ts";
import { channelAccounts } from "../../src/channels/sdk/accounts.ts";
import { ConfigError } from "../../src/config/errors.ts";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { FakeKakao, skillPayload } from "../fakes/kakao.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { channelTestExtension, testCommandPolicy } from "./extension.ts";

/** `/parts <n> <size>`: after 1.2 s (past the skill timeout) answers in n parts of `size` characters each. */
const partsExtension: GatewayExtension = {
  name: "kakao-parts",
  setup(gw) {
    gw.commands.register({
      name: "/parts",
      description: "answers slowly, in several parts",
      handler: async ({ command }) => {
        await new Promise((r) => setTimeout(r, 1200));
        const [n = 3, size = 40] = command.positional.map(Number);
        return Array.from({ length: n }, (_, i) => ({
          text: `Part ${i + 1}: ${"x".repeat(Math.max(0, size - 8))}`,
          ...(i === n - 1 ? { buttons: [{ label: "Alpha", value: "pick:alpha" }] } : {}),
        }));
      },
    });
  },
};

describe("KakaoTalk (Open Builder skill) channel", () => {
  let agent: FakeAgent;
  let kakao: FakeKakao;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    kakao = await new FakeKakao().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        policy: { overrides: { ...testCommandPolicy.overrides, "/parts": "public" } },
        channels: {
          kakao: {
            allowedUsers: "kakao_alice,kakao_slow",
            callbackHosts: [`http://127.0.0.1:${kakao.port}`],
            skillTimeoutMs: 800,
          },
        },
      },
      extensions: [channelTestExtension(), partsExtension],
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await kakao?.stop();
  });

  const post = (body: unknown) =>
    fetch(`${gw.url}/kakao/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const agentSaw = (text: string) =>
    agent.requests.filter((r) => r.body.messages.at(-1)?.content === text).length;

  test("an answer ready within the skill timeout comes back in-band as a SkillResponse 2.0", async () => {
    const res = await post(skillPayload({ utterance: "in band" }));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body, {
      version: "2.0",
      template: { outputs: [{ simpleText: { text: "echo: in band" } }] },
    });
  });

  test("a slow answer uses the skill callback: useCallback now, the SkillResponse posted later", async () => {
    agent.options = { headerDelayMs: 1500 };
    try {
      const callbackUrl = kakao.callbackUrl();
      const res = await post(skillPayload({ userId: "kakao_slow", utterance: "slow one", callbackUrl }));
      assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
      const got = await waitFor(
        () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
        10_000,
        "callback",
      );
      assert.equal(got.body.template?.outputs?.[0]?.simpleText?.text, "echo: slow one");
    } finally {
      agent.options = {};
    }
  });

  test("a 429 from the callback endpoint is retried and then succeeds", async () => {
    agent.options = { headerDelayMs: 1200 };
    kakao.rateLimitNext = { count: 1, retryAfterSec: 1 };
    try {
      const callbackUrl = kakao.callbackUrl();
      const res = await post(skillPayload({ userId: "kakao_slow", utterance: "limited", callbackUrl }));
      assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
      const got = await waitFor(
        () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
        10_000,
        "callback",
      );
      assert.equal(got.body.template?.outputs?.[0]?.simpleText?.text, "echo: limited");
      assert.equal(kakao.rateLimitNext.count, 0);
    } finally {
      agent.options = {};
    }
  });

  test("a callback host answering 307 is not followed to the other address; the delivery fails for good", async () => {
    const other = await new FakeKakao().start();
    agent.options = { headerDelayMs: 1200 };
    try {
      kakao.redirectNext = other.callbackUrl();
      const callbackUrl = kakao.callbackUrl();
      const res = await post(skillPayload({ userId: "kakao_slow", utterance: "go elsewhere", callbackUrl }));
      assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
      const dead = await waitFor(
        async () => {
          const all = await gw.gateway.store.listOutbound({ sessionKey: "kakao:default:kakao_slow" });
          return all.find((i) => i.state === "dead" && i.payload.includes("go elsewhere"));
        },
        10_000,
        "the callback delivery dead-lettered",
      );
      assert.match(dead.lastError ?? "", /307 \(a redirect\), which is not followed/);
      assert.equal(kakao.redirectNext, undefined, "the allowlisted host was called once");
      assert.equal(other.hits, 0, "the redirect target was never reached");
      assert.equal(other.received.length, 0);
    } finally {
      agent.options = {};
      kakao.redirectNext = undefined;
      await other.stop();
    }
  });

  test("a multi-part reply through the one-time callback arrives whole, in one SkillResponse", async () => {
    const callbackUrl = kakao.callbackUrl();
    const res = await post(skillPayload({ userId: "kakao_parts", utterance: "/parts 3 40", callbackUrl }));
    assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
    const got = await waitFor(
      () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
      10_000,
      "callback",
    );
    const texts = got.body.template?.outputs?.map((o) => o.simpleText?.text);
    assert.equal(texts?.length, 3, "one bubble per part");
    assert.match(texts![0]!, /^Part 1: x+$/);
    assert.match(texts![1]!, /^Part 2: x+$/);
    assert.match(texts![2]!, /^Part 3: x+$/);
    assert.deepEqual(got.body.template?.quickReplies, [
      { label: "Alpha", action: "message", messageText: "Alpha" },
    ]);
    // Every part is settled as delivered (the later ones rode along), none dead-lettered, one callback call.
    const items = await waitFor(
      async () => {
        const all = await gw.gateway.store.listOutbound({ sessionKey: "kakao:default:kakao_parts" });
        return all.length === 3 && all.every((i) => i.state === "done") && all;
      },
      5000,
      "all parts settled",
    );
    assert.equal(items.length, 3);
    assert.equal(kakao.received.filter((r) => callbackUrl.endsWith(r.token)).length, 1);
    // The quick reply sent in the callback works: tapping it is the button press.
    const tap = await post(skillPayload({ userId: "kakao_parts", utterance: "Alpha" }));
    assert.equal((await tap.json()).template.outputs[0].simpleText.text, "picked alpha");
  });

  test("a multi-part reply too long for 3 bubbles shares them and ends with a visible note", async () => {
    const callbackUrl = kakao.callbackUrl();
    const res = await post(skillPayload({ userId: "kakao_parts2", utterance: "/parts 7 450", callbackUrl }));
    assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
    const got = await waitFor(
      () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
      10_000,
      "callback",
    );
    const texts = got.body.template!.outputs!.map((o) => o.simpleText!.text);
    assert.equal(texts.length, 3);
    for (const t of texts) assert.ok(t.length <= 1000, `bubble of ${t.length} characters`);
    // Two parts share each bubble, so parts 1-6 fit; part 7 does not, and the last bubble says so.
    for (const [i, t] of texts.entries()) {
      assert.match(t, new RegExp(`^Part ${2 * i + 1}: x+\n\nPart ${2 * i + 2}: x+`));
    }
    assert.ok(texts[2]!.endsWith(SHORTENED_NOTE));
    assert.doesNotMatch(texts.join(), /Part 7/);
    await waitFor(
      async () => {
        const all = await gw.gateway.store.listOutbound({ sessionKey: "kakao:default:kakao_parts2" });
        return all.length === 7 && all.every((i) => i.state === "done");
      },
      5000,
      "all parts settled",
    );
  });

  test("a callback URL on a host that is not allowlisted is never called", async () => {
    agent.options = { headerDelayMs: 1200 };
    try {
      const hitsBefore = kakao.hits;
      const evil = kakao.callbackUrl("localhost");
      const res = await post(
        skillPayload({ userId: "kakao_slow", utterance: "evil callback", callbackUrl: evil }),
      );
      const body = await res.json();
      assert.equal(body.useCallback, undefined);
      assert.match(body.template.outputs[0].simpleText.text, /Still working/);
      await waitFor(() => agentSaw("evil callback") === 1, 5000, "agent call");
      await new Promise((r) => setTimeout(r, 1000)); // the reply is done; give a wrong delivery time to show up
      assert.equal(kakao.hits, hitsBefore);
    } finally {
      agent.options = {};
    }
  });

  test("a replayed body reaches the agent once", async () => {
    const body = JSON.stringify(skillPayload({ utterance: "replay me" }));
    const first = await post(body);
    assert.equal((await first.json()).template.outputs[0].simpleText.text, "echo: replay me");
    const second = await post(body);
    assert.match((await second.json()).template.outputs[0].simpleText.text, /Already received/);
    assert.equal(agentSaw("replay me"), 1);
  });

  test("the same text twice is two events when Kakao sends callback URLs; a replayed request stays one", async () => {
    // Without Callback, the two bodies are identical (see "a replayed body reaches the agent once"); with it,
    // Kakao issues a fresh one-time callback URL per utterance, and that URL is the event's id.
    const first = kakao.callbackUrl();
    const second = kakao.callbackUrl();
    for (const callbackUrl of [first, second]) {
      const res = await post(skillPayload({ utterance: "say it again", callbackUrl }));
      assert.equal((await res.json()).template.outputs[0].simpleText.text, "echo: say it again");
    }
    assert.equal(agentSaw("say it again"), 2);
    const replay = await post(skillPayload({ utterance: "say it again", callbackUrl: second }));
    assert.match((await replay.json()).template.outputs[0].simpleText.text, /Already received/);
    assert.equal(agentSaw("say it again"), 2);
    // The id does not depend on the time, so a replay after the 60 s body-hash window is still a duplicate.
    const id = `kakao:default:cb:${createHash("sha256").update(second).digest("hex")}`;
    assert.ok(await gw.gateway.store.getInbound(id), `event ${id} is in the inbox`);
  });

  test("a quick-reply tap comes back as the button press it represents", async () => {
    const res = await post(skillPayload({ userId: "kakao_alice", utterance: "/pick" }));
    const body = await res.json();
    assert.equal(body.template.outputs[0].simpleText.text, "Pick one");
    assert.deepEqual(body.template.quickReplies, [
      { label: "Alpha", action: "message", messageText: "Alpha" },
      { label: "Beta", action: "message", messageText: "Beta" },
    ]);
    // Tapping a quick reply makes Kakao send its messageText as the user's utterance.
    const before = agent.requests.length;
    const tapped = body.template.quickReplies[1].messageText;
    const tap = await post(skillPayload({ userId: "kakao_alice", utterance: tapped }));
    assert.equal((await tap.json()).template.outputs[0].simpleText.text, "picked beta");
    assert.equal(agent.requests.length, before, "the tap is a button press, not a message to the agent");
    // The choice fires once: the same words later are an ordinary message (a fresh callback URL makes it a
    // new request, as Kakao's would).
    const again = await post(
      skillPayload({ userId: "kakao_alice", utterance: tapped, callbackUrl: kakao.callbackUrl() }),
    );
    assert.equal((await again.json()).template.outputs[0].simpleText.text, "echo: Beta");
  });

  test("oversized, malformed and incomplete payloads are refused", async () => {
    const big = await post(skillPayload({ utterance: "x".repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    const notJson = await post("{nope");
    assert.equal(notJson.status, 400);
    assert.match((await notJson.json()).error, /not JSON/);
    const noUser = await post({ userRequest: { utterance: "hi" } });
    assert.equal(noUser.status, 400);
    assert.match((await noUser.json()).error, /user\.id/);
  });

  test("a turn without text (photo, sticker) is acknowledged and not handled", async () => {
    const before = agent.requests.length;
    const res = await post(skillPayload({ utterance: "" }));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).version, "2.0");
    assert.equal(agent.requests.length, before);
  });

  test("an untrusted user may use public commands but not talk to the agent", async () => {
    const before = agent.requests.length;
    const chat = await post(skillPayload({ userId: "kakao_stranger", utterance: "let me in" }));
    assert.match((await chat.json()).template.outputs[0].simpleText.text, /allowlist.*kakao_stranger/s);
    const help = await post(skillPayload({ userId: "kakao_stranger", utterance: "/help" }));
    assert.match((await help.json()).template.outputs[0].simpleText.text, /\/status/);
    assert.equal(agent.requests.length, before);
  });
});

describe("Kakao on the connector seed's own port (OPENCLAW_CONNECTOR_KAKAO_*)", () => {
  let agent: FakeAgent;
  let gw: TestGateway;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: { agentUrl: agent.url },
      env: {
        OPENCLAW_CONNECTOR_KAKAO_ENABLED: "true",
        OPENCLAW_CONNECTOR_KAKAO_PORT: "0", // an ephemeral port instead of the seed's 8096
        OPENCLAW_CONNECTOR_KAKAO_ALLOWED_USERS: "kakao_env_user",
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
  });

  test("the channel's own listener opens and answers a skill request", async () => {
    const [own] = gw.gateway.channelListenerUrls;
    assert.ok(own, "a channel listener is open");
    const url = new URL(own!);
    assert.equal(url.hostname, "127.0.0.1", "the seed's default bind address");
    assert.notEqual(url.port, new URL(gw.url).port, "a listener of its own, not the main one");
    const res = await fetch(`${own}/kakao/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(skillPayload({ userId: "kakao_env_user", utterance: "via own port" })),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      version: "2.0",
      template: { outputs: [{ simpleText: { text: "echo: via own port" } }] },
    });
    assert.equal((await fetch(`${own}/healthz`)).status, 200);
    // The env allowlist applies there too.
    const stranger = await fetch(`${own}/kakao/webhook`, {
      method: "POST",
      body: JSON.stringify(skillPayload({ userId: "kakao_nobody", utterance: "hello?" })),
    });
    assert.match((await stranger.json()).template.outputs[0].simpleText.text, /allowlist/);
  });
});

describe("Kakao formatting and settings", () => {
  test("SkillResponse limits: ≤3 outputs, ≤1000 characters each, ≤10 quick replies from buttons", () => {
    const buttons = Array.from({ length: 12 }, (_, i) => ({
      label: `Choice number ${i + 1} long`,
      value: `v:${i}`,
    }));
    const r = skillResponse("word ".repeat(1000), buttons);
    assert.equal(r.template.outputs.length, 3);
    for (const o of r.template.outputs) assert.ok("simpleText" in o && o.simpleText.text.length <= 1000);
    assert.equal(r.template.quickReplies?.length, 10);
    const last = r.template.outputs[2]!;
    assert.ok("simpleText" in last && last.simpleText.text.endsWith(SHORTENED_NOTE));
    // Parts that fit keep a bubble each, and no note is added.
    const parts = skillResponse(["first part", "second part"]);
    assert.deepEqual(parts.template.outputs, [
      { simpleText: { text: "first part" } },
      { simpleText: { text: "second part" } },
    ]);
    // Four short parts share bubbles rather than losing one.
    const four = skillResponse(["a", "b", "c", "d"]);
    assert.deepEqual(four.template.outputs, [{ simpleText: { text: "a\n\nb\n\nc\n\nd" } }]);
    assert.deepEqual(r.template.quickReplies?.[0], {
      label: "Choice number ",
      action: "message",
      messageText: "Choice number 1 long",
    });
  });

  test("callback host allowlist: Kakao's hosts by default, https only, exact origins when configured", () => {
    const rules = parseHostRules(KAKAO_CALLBACK_HOSTS);
    assert.ok(callbackAllowed(rules, "https://bot-api.kakao.com/v1/callback/abc"));
    assert.equal(callbackAllowed(rules, "http://bot-api.kakao.com/v1/callback/abc"), false);
    assert.equal(callbackAllowed(rules, "https://bot-api.kakao.com.evil.example/cb"), false);
    assert.equal(callbackAllowed(rules, "https://evilkakao.com/cb"), false);
    assert.equal(callbackAllowed(rules, "https://user:pw@bot-api.kakao.com/cb"), false);
    assert.equal(callbackAllowed(rules, "https://169.254.169.254/latest"), false);
    const local = parseHostRules(["http://127.0.0.1:9000"]);
    assert.ok(callbackAllowed(local, "http://127.0.0.1:9000/cb"));
    assert.equal(callbackAllowed(local, "http://127.0.0.1:9001/cb"), false);
  });

  test("a malformed callbackHosts entry is a configuration error naming the key, not a TypeError", () => {
    for (const entry of [
      "http://exa mple.com:9000",
      "https://",
      "ftp://cb.example",
      "bad host",
      "cb.example/path",
    ]) {
      assert.throws(
        () => channelAccounts(kakaoModule, { callbackHosts: ["bot-api.kakao.com", entry] }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError, `${entry}: ${err.name} ${err.message}`);
          assert.match(err.message, /channels\.kakao\.callbackHosts: /);
          assert.ok(err.message.includes(JSON.stringify(entry)), err.message);
          return true;
        },
      );
    }
    // Valid spellings still start.
    assert.doesNotThrow(() =>
      parseHostRules(["bot-api.kakao.com", "*.kakao.com", "http://127.0.0.1:9000", "https://[::1]:8443"]),
    );
  });

  test("the seed's env vars: only OPENCLAW_CONNECTOR_KAKAO_ENABLED=true turns the adapter on, on port 8096", () => {
    assert.equal(kakaoFromEnv({ OPENCLAW_CONNECTOR_KAKAO_ALLOWED_USERS: "a" }), undefined);
    assert.deepEqual(kakaoFromEnv({ OPENCLAW_CONNECTOR_KAKAO_ENABLED: "false" }), { enabled: false });
    const on = kakaoFromEnv({
      OPENCLAW_CONNECTOR_KAKAO_ENABLED: "true",
      OPENCLAW_CONNECTOR_KAKAO_CALLBACK_HOSTS: "cb.example",
    });
    assert.deepEqual(on?.listen, { host: "127.0.0.1", port: 8096 });
    assert.deepEqual(on?.callbackHosts, ["cb.example"]);
  });
});
