// The async agent mode: forward with X-OCG-Callback and stream:false, the agent answers 202 and calls back
// later; every refusal path of the callback listener; delivery after a gateway restart.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { waitText } from "../../src/targets/openai/async-mode.ts";
import { FakeAsyncAgent } from "../fakes/async-agent.ts";
import { startTestGateway, type TestGateway, tempDir } from "../helpers/gateway.ts";
import { expectMessage, history, newThread, say } from "./chat.ts";

const SECRET = "callback-secret-for-tests-0123";

describe("async agent callbacks", () => {
  let gw: TestGateway;
  let agent: FakeAsyncAgent;
  before(async () => {
    agent = await new FakeAsyncAgent({ secret: SECRET }).start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        async: true,
        callbackPort: 0,
        callbackSecret: SECRET,
        apiKey: "sk-test-async-key",
      },
      extensions: [securityExtension()],
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  test("the reply arrives in the original chat; the token is single use", async () => {
    const thread = await newThread(gw.url);
    const n = agent.requests.length;
    await say(gw.url, thread, "summarise the news");
    await agent.waitForRequests(n + 1);
    const req = agent.requests[n]!;
    assert.match(req.callbackUrl, /^http:\/\/127\.0\.0\.1:\d+\/ocg\/callback\/[0-9a-f]{64}$/);
    assert.equal(req.body.stream, false);
    assert.equal(req.body.messages.at(-1)!.content, "summarise the news");
    assert.equal(req.headers.authorization, "Bearer sk-test-async-key");
    assert.ok(!("callback" in req.body), "the body is a plain chat completion request");

    assert.equal(await agent.answer(n, { reply: { text: "Here is the summary." } }), 200);
    await expectMessage(
      gw.url,
      thread,
      (m) => m.role === "assistant" && m.content === "Here is the summary.",
      "the async reply",
    );
    assert.equal(await agent.answer(n, { reply: "again" }), 404, "a used token is unknown");
  });

  test("refusals: missing or wrong signature 401, bad body 400, unknown or malformed token 404 — none burns the token", async () => {
    const thread = await newThread(gw.url);
    const n = agent.requests.length;
    await say(gw.url, thread, "long task");
    await agent.waitForRequests(n + 1);
    assert.equal(await agent.answer(n, { reply: "x" }, { secret: null }), 401, "missing signature");
    assert.equal(await agent.answer(n, { reply: "x" }, { secret: "not-the-secret" }), 401, "wrong secret");
    assert.equal(await agent.answer(n, { reply: "x" }, { signature: "sha256=zz" }), 401, "garbage signature");
    assert.equal(await agent.answer(n, { nope: true }), 400, "no reply field");
    const url = new URL(agent.requests[n]!.callbackUrl);
    const unknown = `${url.origin}/ocg/callback/${"ab".repeat(32)}`;
    assert.equal(await agent.answer(n, { reply: "x" }, { url: unknown }), 404);
    assert.equal(await agent.answer(n, { reply: "x" }, { url: `${url.origin}/ocg/callback/xyz` }), 404);
    assert.equal(
      await agent.answer(n, { reply: "failed to fetch", isError: true }),
      200,
      "the token survived",
    );
    await expectMessage(
      gw.url,
      thread,
      (m) => m.role === "error" && m.content === "⚠️ failed to fetch",
      "the error reply",
    );
  });
});

describe("async callbacks: a signature is bound to its callback token", () => {
  let gw: TestGateway;
  let agent: FakeAsyncAgent;
  before(async () => {
    agent = await new FakeAsyncAgent({ secret: SECRET }).start();
    gw = await startTestGateway({
      config: { agentUrl: agent.url, async: true, callbackPort: 0, callbackSecret: SECRET },
      extensions: [securityExtension()],
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  test("a signed reply naming one token cannot answer another token's chat, and burns nothing", async () => {
    const [threadA, threadB] = [await newThread(gw.url), await newThread(gw.url)];
    const n = agent.requests.length;
    await say(gw.url, threadA, "question A");
    await agent.waitForRequests(n + 1);
    await say(gw.url, threadB, "question B");
    await agent.waitForRequests(n + 2);
    const tokenOf = (i: number) => agent.requests[i]!.callbackUrl.split("/").at(-1)!;
    const forA = { reply: "private answer for A", callbackToken: tokenOf(n) };
    // The body and signature meant for A, replayed to B's URL.
    const replayed = await agent.answer(n, forA, { url: agent.requests[n + 1]!.callbackUrl });
    assert.equal(replayed, 401);
    assert.ok(
      !(await history(gw.url, threadB)).some((m) => m.content === "private answer for A"),
      "B's chat never sees A's reply",
    );
    assert.equal(await agent.answer(n, forA), 200, "A's token was not burned");
    await expectMessage(
      gw.url,
      threadA,
      (m) => m.content === "private answer for A",
      "A's reply in A's chat",
    );
    assert.equal(
      await agent.answer(n + 1, { reply: "answer for B", callbackToken: tokenOf(n + 1) }),
      200,
      "B's token was not burned either",
    );
    await expectMessage(gw.url, threadB, (m) => m.content === "answer for B", "B's reply in B's chat");
  });

  test("a reply without callbackToken (the seed's form) is still accepted", async () => {
    const thread = await newThread(gw.url);
    const n = agent.requests.length;
    await say(gw.url, thread, "seed agent");
    await agent.waitForRequests(n + 1);
    assert.equal(await agent.answer(n, { reply: "seed reply", isError: false }), 200);
    await expectMessage(gw.url, thread, (m) => m.content === "seed reply", "the seed-form reply");
  });
});

describe("async callbacks with callbackRequireToken", () => {
  test("a body that does not name its token is refused without burning it; one that does is delivered", async () => {
    const agent = await new FakeAsyncAgent({ secret: SECRET }).start();
    const gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        async: true,
        callbackPort: 0,
        callbackSecret: SECRET,
        callbackRequireToken: true,
      },
      extensions: [securityExtension()],
    });
    try {
      const thread = await newThread(gw.url);
      await say(gw.url, thread, "strict agent");
      await agent.waitForRequests(1);
      assert.equal(
        await agent.answer(0, { reply: "unbound reply" }),
        401,
        "the seed's unbound form is refused",
      );
      const token = agent.requests[0]!.callbackUrl.split("/").at(-1)!;
      assert.equal(await agent.answer(0, { reply: "bound reply", callbackToken: token }), 200, "not burned");
      await expectMessage(gw.url, thread, (m) => m.content === "bound reply", "the bound reply");
      assert.ok(!(await history(gw.url, thread)).some((m) => m.content === "unbound reply"));
    } finally {
      await gw.stop();
      await agent.stop();
    }
  });
});

describe("async callbacks: expiry and restart", () => {
  test("waits are said in seconds under a minute, never as 0 min", () => {
    assert.equal(waitText(1000), "1 s");
    assert.equal(waitText(400), "1 s");
    assert.equal(waitText(0), "1 s");
    assert.equal(waitText(59_000), "59 s");
    assert.equal(waitText(60_000), "1 min");
    assert.equal(waitText(90_000), "1 min 30 s");
    assert.equal(waitText(1_800_000), "30 min");
  });

  test("an expired token answers 410 and the chat is told the agent went quiet", async () => {
    const agent = await new FakeAsyncAgent().start();
    const gw = await startTestGateway({
      config: { agentUrl: agent.url, async: true, callbackPort: 0, callbackTokenTTL: 1 },
      extensions: [securityExtension()],
    });
    try {
      const thread = await newThread(gw.url);
      await say(gw.url, thread, "slow question");
      await agent.waitForRequests(1);
      await expectMessage(
        gw.url,
        thread,
        (m) => m.content.includes("did not answer within"),
        "the expiry notice",
        6000,
      );
      const notice = (await history(gw.url, thread)).find((m) => m.content.includes("did not answer within"));
      assert.match(notice!.content, /did not answer within 1 s\./, "a 1 s TTL is said in seconds, not 0 min");
      assert.equal(await agent.answer(0, { reply: "too late" }), 410);
    } finally {
      await gw.stop();
      await agent.stop();
    }
  });

  test("a reply after a gateway restart still reaches the chat", async () => {
    const agent = await new FakeAsyncAgent().start();
    const dir = tempDir();
    const config = { agentUrl: agent.url, async: true, callbackPort: 0 };
    const first = await startTestGateway({ dir, config, extensions: [securityExtension()] });
    const thread = await newThread(first.url);
    await say(first.url, thread, "remember me");
    await agent.waitForRequests(1);
    const port = Number(new URL(agent.requests[0]!.callbackUrl).port);
    await first.stop();
    const second = await startTestGateway({
      dir,
      config: { ...config, callbackPort: port },
      extensions: [securityExtension()],
    });
    try {
      assert.equal(await agent.answer(0, { reply: "I remembered." }), 200);
      await expectMessage(
        second.url,
        thread,
        (m) => m.role === "assistant" && m.content === "I remembered.",
        "the reply after restart",
      );
    } finally {
      await second.stop();
      await agent.stop();
    }
  });
});
