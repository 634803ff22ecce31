import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { channelAccounts } from "../../src/channels/sdk/accounts.ts";
import { aesKeyFrom, decryptMessage, wechatSignature } from "../../src/channels/wechat/crypto.ts";
import { wechatFromEnv, wechatModule } from "../../src/channels/wechat/index.ts";
import { parseWechatXml } from "../../src/channels/wechat/xml.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import {
  compatibleRequest,
  encryptedRequest,
  FakeWechat,
  signedQuery,
  wechatMessageXml,
} from "../fakes/wechat.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const TOKEN = "wechat-test-token";
const AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

describe("WeChat Official Account channel", () => {
  let agent: FakeAgent;
  let wechat: FakeWechat;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    wechat = await new FakeWechat().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        channels: {
          wechat: {
            token: TOKEN,
            appId: wechat.appId,
            appSecret: wechat.appSecret,
            allowedUsers: ["openid_alice", "openid_late", "openid_long"],
            apiBase: wechat.url,
            passiveReplyMs: 1500,
            accounts: {
              default: {},
              safe: { encodingAesKey: AES_KEY, path: "/wechat/safe" },
            },
          },
        },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await wechat?.stop();
  });

  const post = (body: string, query = signedQuery(TOKEN), path = "/wechat/webhook") =>
    fetch(`${gw.url}${path}?${query}`, { method: "POST", headers: { "content-type": "text/xml" }, body });
  const agentSaw = (text: string) =>
    agent.requests.filter((r) => r.body.messages.at(-1)?.content === text).length;

  test("GET verification echoes echostr only with a valid signature", async () => {
    const q = signedQuery(TOKEN);
    q.set("echostr", "echo-123");
    const ok = await fetch(`${gw.url}/wechat/webhook?${q}`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "echo-123");
    const bad = signedQuery(TOKEN, { badSignature: true });
    bad.set("echostr", "echo-123");
    const refused = await fetch(`${gw.url}/wechat/webhook?${bad}`);
    assert.equal(refused.status, 403);
    assert.equal(await refused.text(), "Verification failed");
  });

  test("a message answered within the window gets a passive XML reply", async () => {
    const res = await post(wechatMessageXml({ content: "passive please" }));
    assert.equal(res.status, 200);
    const reply = parseWechatXml(await res.text());
    assert.equal(reply.MsgType, "text");
    assert.equal(reply.ToUserName, "openid_alice");
    assert.equal(reply.FromUserName, "gh_account");
    assert.equal(reply.Content, "echo: passive please");
    assert.equal(wechat.sent.length, 0, "nothing went through the customer-service API");
  });

  test("a slow answer: 'success' now, the reply later through the customer-service API", async () => {
    agent.options = { headerDelayMs: 2500 };
    try {
      const res = await post(wechatMessageXml({ from: "openid_late", content: "take your time" }));
      assert.equal(await res.text(), "success");
      const sent = await waitFor(
        () => wechat.sent.find((m) => m.touser === "openid_late"),
        10_000,
        "late reply",
      );
      assert.equal(sent.text?.content, "echo: take your time");
    } finally {
      agent.options = {};
    }
  });

  test("a WeChat rate limit (errcode 45011) is retried, and a revoked token is refreshed once", async () => {
    agent.options = { headerDelayMs: 2000 };
    wechat.failNext = { count: 1, errcode: 45011, errmsg: "api minute-quota reach limit" };
    wechat.revokeTokens();
    try {
      const res = await post(wechatMessageXml({ from: "openid_late", content: "quota" }));
      assert.equal(await res.text(), "success");
      const sent = await waitFor(
        () => wechat.sent.find((m) => m.text?.content === "echo: quota"),
        15_000,
        "delivery after the quota error",
      );
      assert.equal(sent.touser, "openid_late");
      assert.equal(wechat.failNext.count, 0);
      assert.equal(wechat.tokenRequests, 2, "one token at first, one more after the revocation");
    } finally {
      agent.options = {};
    }
  });

  test("a long passive reply: first part in-band, the rest once through the outbox and customer-service API", async () => {
    const paragraphs = Array.from(
      { length: 8 },
      (_, i) => `Paragraph ${i + 1}. ${"This sentence makes the answer long enough. ".repeat(5).trim()}`,
    );
    const long = paragraphs.join("\n\n");
    agent.options = { reply: () => long };
    // The first customer-service send hits WeChat's per-minute quota; the outbox retries it.
    wechat.failNext = { count: 1, errcode: 45011, errmsg: "api minute-quota reach limit" };
    const xml = wechatMessageXml({ from: "openid_long", content: "tell me a lot", msgId: "880000001" });
    try {
      const res = await post(xml);
      const passive = String(parseWechatXml(await res.text()).Content);
      assert.ok(passive.length > 0 && passive.length <= 600, `passive part is ${passive.length} characters`);
      assert.ok(long.startsWith(passive));

      const key = "reply:wechat:default:880000001:rest";
      const store = gw.gateway.store;
      const done = async () => {
        const items = [];
        for (let n = 0; ; n++) {
          const item = await store.findOutboundByKey(`${key}:${n}`);
          if (!item) break;
          items.push(item);
        }
        return items.length > 0 && items.every((i) => i.state === "done") && items;
      };
      const items = await waitFor(done, 15_000, "the rest of the reply delivered");
      assert.ok(items[0]!.attempts >= 2, "the first queued part was retried after errcode 45011");
      assert.equal(wechat.failNext.count, 0);

      // A redelivery of the same message (WeChat retries when it gets no answer in time) queues nothing more.
      const again = await post(xml);
      assert.equal(await again.text(), "success");

      const sent = wechat.sent.filter((m) => m.touser === "openid_long").map((m) => m.text!.content);
      assert.equal(sent.length, items.length, "each part of the rest arrived exactly once");
      for (const part of sent) assert.ok(part.length <= 600);
      const words = (t: string) => t.split(/\s+/).filter(Boolean);
      assert.deepEqual(words([passive, ...sent].join(" ")), words(long), "nothing lost, nothing repeated");
      assert.equal(agentSaw("tell me a lot"), 1);
      // The whole answer is in the history once (the queued rest is not recorded a second time).
      const history = await store.listMessages("wechat:default:openid_long");
      assert.deepEqual(
        history.filter((m) => m.role !== "user").map((m) => m.content),
        [long],
      );
    } finally {
      agent.options = {};
      wechat.failNext = undefined;
    }
  });

  test("a retry after a limit on the second part of one delivery does not send the first part again", async () => {
    // 590 characters plus the numbered choices is more than one 600-character message.
    const text = `${"Choose carefully. ".repeat(33)}Ready?`.slice(-590);
    wechat.failNext = { count: 1, errcode: 45011, errmsg: "api minute-quota reach limit", after: 1 };
    try {
      await gw.gateway.deliver(
        { channel: "wechat", account: "default", conversationId: "openid_alice" },
        {
          text,
          buttons: [
            { label: "Yes", value: "pick:yes" },
            { label: "No", value: "pick:no" },
          ],
        },
        "test-wechat-parts-1",
      );
      await waitFor(
        () => wechat.sent.find((m) => m.touser === "openid_alice" && m.text?.content.includes("2. No")),
        15_000,
        "the second part after the limit",
      );
      const parts = wechat.sent.filter((m) => m.touser === "openid_alice").map((m) => m.text!.content);
      assert.equal(parts.length, 2, "each part once");
      assert.ok(parts[0]!.startsWith(text.slice(0, 40)));
      assert.equal(wechat.failNext.count, 0, "the second part was refused once");
    } finally {
      wechat.failNext = undefined;
    }
  });

  test("a wrong signature is refused with 403", async () => {
    const res = await post(
      wechatMessageXml({ content: "forged" }),
      signedQuery(TOKEN, { badSignature: true }),
    );
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "Verification failed");
    assert.equal(agentSaw("forged"), 0);
  });

  test("a stale timestamp is refused with 403 Stale Request", async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    const res = await post(wechatMessageXml({ content: "old" }), signedQuery(TOKEN, { timestamp: old }));
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "Stale Request");
  });

  test("GET verification with a stale timestamp is refused", async () => {
    const q = signedQuery(TOKEN, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    q.set("echostr", "echo-old");
    const res = await fetch(`${gw.url}/wechat/webhook?${q}`);
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "Stale Request");
  });

  test("plaintext mode: a signed URL used again with another body is refused as a replay", async () => {
    const query = signedQuery(TOKEN);
    const genuine = wechatMessageXml({ content: "genuine", msgId: "990000001" });
    const first = await post(genuine, query);
    assert.match(await first.text(), /echo: genuine/);
    // The captured URL with a forged body (another text, from the same allowlisted user).
    const forged = await post(wechatMessageXml({ content: "forged with a captured URL" }), query);
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /Replayed Request/);
    // The same URL with the same body is WeChat retrying that message: acknowledged, handled once.
    const retry = await post(genuine, query);
    assert.equal(retry.status, 200);
    assert.equal(agentSaw("genuine"), 1);
    assert.equal(agentSaw("forged with a captured URL"), 0);
  });

  test("a correctly signed message whose CreateTime is over 7 days old is acknowledged and ignored", async () => {
    const old = Math.floor(Date.now() / 1000) - 7 * 86_400 - 3600;
    const res = await post(wechatMessageXml({ content: "from last week", createTime: old }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "success");
    const fresh = await post(wechatMessageXml({ content: "from today" }));
    assert.match(await fresh.text(), /echo: from today/);
    assert.equal(agentSaw("from last week"), 0);
  });

  test("a replayed message (same MsgId) reaches the agent once", async () => {
    const xml = wechatMessageXml({ content: "only once", msgId: "777000111" });
    const first = await post(xml);
    assert.match(await first.text(), /echo: only once/);
    const second = await post(xml);
    assert.equal(await second.text(), "success");
    assert.equal(agentSaw("only once"), 1);
  });

  test("an oversized body gets 413; malformed XML and DOCTYPE get 400", async () => {
    const big = await post(wechatMessageXml({ content: "x".repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    const bad = await post("<xml><ToUserName>oops</xml>");
    assert.equal(bad.status, 400);
    const doctype = await post(
      `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>`,
    );
    assert.equal(doctype.status, 400);
    assert.match(await doctype.text(), /DOCTYPE/);
    const noFrom = await post("<xml><MsgType>text</MsgType></xml>");
    assert.equal(noFrom.status, 400);
  });

  test("event and message types it does not handle are acknowledged with 'success' and ignored", async () => {
    const before = agent.requests.length;
    const subscribe = await post(
      wechatMessageXml({ type: "event", msgId: "", extra: "<Event><![CDATA[subscribe]]></Event>" }),
    );
    assert.equal(await subscribe.text(), "success");
    const location = await post(
      wechatMessageXml({ type: "location", extra: "<Location_X>23.1</Location_X>" }),
    );
    assert.equal(await location.text(), "success");
    assert.equal(agent.requests.length, before);
  });

  test("an untrusted sender may use public commands but not talk to the agent", async () => {
    const before = agent.requests.length;
    const chat = await post(wechatMessageXml({ from: "openid_stranger", content: "hi there" }));
    const chatReply = parseWechatXml(await chat.text());
    assert.match(String(chatReply.Content), /allowlist/);
    assert.match(String(chatReply.Content), /openid_stranger/);
    const help = await post(wechatMessageXml({ from: "openid_stranger", content: "/help" }));
    assert.match(String(parseWechatXml(await help.text()).Content), /\/status/);
    assert.equal(agent.requests.length, before);
  });

  test("safe mode: an AES-encrypted message gets an encrypted, signed passive reply", async () => {
    const key = aesKeyFrom(AES_KEY);
    const { query, body } = encryptedRequest(
      TOKEN,
      key,
      wechat.appId,
      wechatMessageXml({ content: "secret hi" }),
    );
    const res = await post(body, query, "/wechat/safe");
    assert.equal(res.status, 200);
    const envelope = parseWechatXml(await res.text());
    const encrypted = String(envelope.Encrypt);
    assert.equal(
      envelope.MsgSignature,
      wechatSignature([TOKEN, String(envelope.TimeStamp), String(envelope.Nonce), encrypted]),
    );
    const inner = parseWechatXml(decryptMessage(key, wechat.appId, encrypted));
    assert.equal(inner.Content, "echo: secret hi");

    // A message encrypted for another appId, or with a forged msg_signature, is refused.
    const other = encryptedRequest(TOKEN, key, "wx_other_app", wechatMessageXml({ content: "wrong app" }));
    assert.equal((await post(other.body, other.query, "/wechat/safe")).status, 400);
    const forged = encryptedRequest(TOKEN, key, wechat.appId, wechatMessageXml({ content: "forged" }));
    forged.query.set("msg_signature", "0".repeat(40));
    assert.equal((await post(forged.body, forged.query, "/wechat/safe")).status, 403);
  });

  test("compatible mode without an EncodingAESKey: the plaintext fields are read and answered in plaintext", async () => {
    const key = aesKeyFrom(AES_KEY);
    const { query, body } = compatibleRequest(
      TOKEN,
      key,
      wechat.appId,
      wechatMessageXml({ content: "compatible hi" }),
    );
    const res = await post(body, query);
    assert.equal(res.status, 200);
    assert.equal(parseWechatXml(await res.text()).Content, "echo: compatible hi");

    // Still signed: a wrong signature is refused; a safe-mode body (ciphertext only) says what is missing.
    const forged = compatibleRequest(TOKEN, key, wechat.appId, wechatMessageXml({ content: "forged" }));
    forged.query.set("signature", "0".repeat(40));
    assert.equal((await post(forged.body, forged.query)).status, 403);
    const safe = encryptedRequest(TOKEN, key, wechat.appId, wechatMessageXml({ content: "safe only" }));
    const refused = await post(safe.body, safe.query);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /no encodingAesKey is configured/);
    assert.equal(agentSaw("forged") + agentSaw("safe only"), 0);
  });
});

describe("WeChat daily API quota (errcode 45009) on the rest of a long reply", () => {
  // Own gateway: the quota blocks this account's sends for a minute, which would stall other tests.
  let agent: FakeAgent;
  let wechat: FakeWechat;
  let gw: TestGateway;
  before(async () => {
    agent = await new FakeAgent({
      reply: () => `${"A sentence of a long answer. ".repeat(40).trim()}`,
    }).start();
    wechat = await new FakeWechat().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        channels: {
          wechat: {
            token: TOKEN,
            appId: wechat.appId,
            appSecret: wechat.appSecret,
            allowedUsers: ["openid_quota"],
            apiBase: wechat.url,
            passiveReplyMs: 3000,
          },
        },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await wechat?.stop();
  });

  test("is kept in the outbox and retried a minute later, not dropped", async () => {
    wechat.failNext = { count: 1, errcode: 45009, errmsg: "reach max api daily quota limit" };
    const xml = wechatMessageXml({ from: "openid_quota", content: "long please", msgId: "880000002" });
    const res = await fetch(`${gw.url}/wechat/webhook?${signedQuery(TOKEN)}`, { method: "POST", body: xml });
    const passive = String(parseWechatXml(await res.text()).Content);
    assert.ok(passive.length > 0 && passive.length <= 600);
    const item = await waitFor(
      async () => {
        const i = await gw.gateway.store.findOutboundByKey("reply:wechat:default:880000002:rest:0");
        return i && i.attempts >= 1 && i.state === "pending" && i;
      },
      10_000,
      "the rest rescheduled after errcode 45009",
    );
    assert.match(item.lastError ?? "", /45009/);
    assert.ok(item.availableAt >= Date.now() + 50_000, "retried after about a minute");
    assert.equal(wechat.sent.length, 0);
  });
});

test("a malformed encodingAesKey is a configuration error naming the key, at start-up", () => {
  const valid = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  for (const bad of [
    valid.slice(1),
    `${valid}H`,
    `${valid.slice(0, 42)}=`,
    `${valid.slice(0, 42)}-`,
    " ".repeat(43),
  ]) {
    assert.throws(
      () => channelAccounts(wechatModule, { token: "t", appId: "wx1", encodingAesKey: bad }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, `${JSON.stringify(bad)}: ${err.name} ${err.message}`);
        assert.match(
          err.message,
          /channels\.wechat\.encodingAesKey: must be the 43-character EncodingAESKey/,
        );
        assert.doesNotMatch(err.message, new RegExp(valid.slice(5, 20)), "the key itself is not printed");
        return true;
      },
    );
  }
  assert.throws(
    () =>
      channelAccounts(wechatModule, {
        accounts: { ops: { token: "t", appId: "wx1", encodingAesKey: "short" } },
      }),
    /channels\.wechat\.accounts\.ops\.encodingAesKey/,
  );
});

test("the connector seed's env vars configure WeChat with its own listener on 8097", () => {
  assert.equal(wechatFromEnv({}), undefined);
  const section = wechatFromEnv({
    OPENCLAW_CONNECTOR_WECHAT_TOKEN: "t",
    OPENCLAW_CONNECTOR_WECHAT_APP_ID: "wx1",
    OPENCLAW_CONNECTOR_WECHAT_ALLOWED_USERS: "a, b",
  });
  assert.deepEqual(section?.listen, { host: "127.0.0.1", port: 8097 });
  assert.deepEqual(section?.allowedUsers, ["a", "b"]);
  assert.equal(section?.path, undefined);
});
