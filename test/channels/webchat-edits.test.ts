// The web chat's thread edits (docs/webchat-api.md): rename, search, stop, regenerate, edit-and-resend, with the
// refusals a client can run into (foreign origin, wrong token, unknown thread, too long text, busy thread).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

describe("web chat thread edits", () => {
  let answers = 0;
  // "slow" messages stream for seconds (something to stop); the rest answer at once and are numbered.
  const agent = new FakeAgent({
    chunkSize: 4,
    chunkDelayMs: 15,
    reply: (r) => {
      const last = String([...r.body.messages].reverse().find((m) => m.role === "user")!.content);
      return last.startsWith("slow") ? "x".repeat(4000) : `answer ${++answers} to ${last}`;
    },
  });
  const token = "edits-test-token-0123456789";
  let gw: TestGateway;
  let chat: WebchatClient;
  before(async () => {
    await agent.start();
    gw = await startTestGateway({ config: { agentUrl: agent.url, webchat: { token } } });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const history = async (thread: string) =>
    (await chat.messages(thread)).messages.map((m) => `${m.role}: ${m.content}`);
  const answered = async (thread: string, text: string) => {
    const sent = await chat.send(thread, text);
    await chat.reply(thread, sent.eventId);
  };

  it("renames a thread, and search finds threads by title and by message text, case-insensitively", async () => {
    const a = await chat.createThread();
    await answered(a, "Where do penguins live?");
    const b = await chat.createThread();
    await answered(b, "Bake bread at home");
    const renamed = await call("PATCH", `/api/threads/${b}`, { title: "  Sourdough 100% notes  " });
    assert.deepEqual(renamed, { status: 200, body: { id: b, title: "Sourdough 100% notes" } });

    const ids = async (q: string) =>
      ((await call("GET", `/api/threads?q=${encodeURIComponent(q)}`)).body.threads as { id: string }[]).map(
        (t) => t.id,
      );
    assert.deepEqual(await ids("PENGUINS"), [a], "found by the message text");
    assert.deepEqual(await ids("sourdough"), [b], "found by the new title");
    assert.deepEqual(await ids("100%"), [b], "a % is a character, not a wildcard");
    assert.deepEqual(await ids("1_0"), [], "an _ is a character, not a wildcard");
    assert.deepEqual(await ids("answer 1 to where"), [a], "answers are searched too");
  });

  it("refuses a foreign origin, a wrong token, an unknown thread and too long text", async () => {
    const thread = await chat.createThread();
    await answered(thread, "hello");
    const [msg] = (await chat.messages(thread)).messages;
    const edits: [string, string, unknown][] = [
      ["PATCH", `/api/threads/${thread}`, { title: "x" }],
      ["POST", `/api/threads/${thread}/stop`, {}],
      ["POST", `/api/threads/${thread}/regenerate`, {}],
      ["POST", `/api/threads/${thread}/messages/${msg!.id}/edit`, { text: "hi" }],
    ];
    for (const [method, path, body] of edits) {
      const foreign = await call(method, path, body, { origin: "https://evil.example" });
      assert.equal(foreign.status, 403, `${method} ${path} from a foreign origin`);
      const wrong = await call(method, path, body, {
        "x-forwarded-for": "203.0.113.9",
        authorization: "Bearer not-the-token-000000",
      });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const unknown = await call(method, path.replace(thread, "nosuchthread"), body);
      assert.equal(unknown.status, 404, `${method} ${path} of an unknown thread`);
      assert.match(String(unknown.body.error), /no thread nosuchthread/);
    }
    assert.equal((await call("PATCH", `/api/threads/${thread}`, { title: "t".repeat(201) })).status, 413);
    assert.equal((await call("PATCH", `/api/threads/${thread}`, { name: "x" })).status, 400);
    const long = await call("POST", `/api/threads/${thread}/messages/${msg!.id}/edit`, {
      text: "x".repeat(16_001),
    });
    assert.equal(long.status, 413);
    assert.match(String(long.body.error), /16001 characters; the limit is 16000/);
    assert.equal(
      (await call("POST", `/api/threads/${thread}/messages/${msg!.id}/edit`, { text: " " })).status,
      400,
    );
    assert.equal(
      (await call("POST", `/api/threads/${thread}/messages/999999/edit`, { text: "x" })).status,
      404,
    );
    assert.equal((await call("POST", `/api/threads/${thread}/messages/abc/edit`, { text: "x" })).status, 404);
    const answer = (await chat.messages(thread)).messages.find((m) => m.role === "assistant")!;
    const notMine = await call("POST", `/api/threads/${thread}/messages/${answer.id}/edit`, { text: "x" });
    assert.deepEqual(notMine, {
      status: 400,
      body: { ok: false, error: "only your own messages can be edited" },
    });
    assert.equal((await history(thread)).length, 2, "nothing changed");
  });

  it("regenerate replaces the last answer with a new one", async () => {
    const thread = await chat.createThread();
    await answered(thread, "first question");
    await answered(thread, "second question");
    const before = await history(thread);
    assert.match(before[3]!, /^assistant: answer \d+ to second question$/);
    const r = await call("POST", `/api/threads/${thread}/regenerate`, {});
    assert.equal(r.status, 202);
    await chat.reply(thread, String(r.body.eventId));
    const now = await history(thread);
    assert.deepEqual(now.slice(0, 3), before.slice(0, 3), "earlier history is kept");
    assert.equal(now.length, 4, "the old answer is gone, not kept beside the new one");
    assert.match(now[3]!, /^assistant: answer \d+ to second question$/);
    assert.notEqual(now[3], before[3]);
    // The agent saw the earlier turns and not the replaced answer.
    const req = agent.requests.at(-1)!.body.messages.map((m) => String(m.content));
    assert.ok(!req.includes(before[3]!.slice("assistant: ".length)));
  });

  it("regenerate sends the message's files again, and the new message shows them", async () => {
    const thread = await chat.createThread();
    const notes = Buffer.from("The secret ingredient is apricot.").toString("base64");
    const res = await fetch(`${gw.url}/api/threads/${thread}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        text: "read this",
        attachments: [{ name: "notes.txt", mime: "text/plain", dataBase64: notes }],
      }),
    });
    const sent = (await res.json()) as { eventId: string };
    await chat.reply(thread, sent.eventId);
    const lastAsked = () => JSON.stringify(agent.requests.at(-1)!.body.messages.at(-1));
    assert.match(lastAsked(), /apricot/);
    const r = await call("POST", `/api/threads/${thread}/regenerate`, {});
    await chat.reply(thread, String(r.body.eventId));
    assert.match(lastAsked(), /apricot/, "the agent read the file again");
    const page = await call("GET", `/api/threads/${thread}/messages`);
    const user = (
      page.body.messages as { role: string; eventId: string; media?: { filename?: string }[] }[]
    ).find((m) => m.role === "user");
    assert.equal(user?.eventId, r.body.eventId);
    assert.deepEqual(
      user?.media?.map((m) => m.filename),
      ["notes.txt"],
    );
  });

  it("edit-and-resend replaces the history from the edited message on", async () => {
    const thread = await chat.createThread();
    await answered(thread, "one");
    await answered(thread, "two");
    await answered(thread, "three");
    const two = (await chat.messages(thread)).messages.find((m) => m.content === "two")!;
    const r = await call("POST", `/api/threads/${thread}/messages/${two.id}/edit`, {
      text: "TWO, corrected",
    });
    assert.equal(r.status, 202);
    assert.equal(r.body.removed, 4, "two, its answer, three and its answer");
    await chat.reply(thread, String(r.body.eventId));
    const now = await history(thread);
    assert.equal(now.length, 4);
    assert.deepEqual(now.slice(0, 1), ["user: one"]);
    assert.equal(now[2], "user: TWO, corrected");
    assert.match(now[3]!, /^assistant: answer \d+ to TWO, corrected$/);
  });

  it("stop cancels the answer being written: the stream ends, the question stays, regenerate then answers", async () => {
    const thread = await chat.createThread();
    const started = await chat.subscribe(thread, (ev) => ev.type === "delta");
    const stream = await chat.subscribe(thread, (ev) => ev.type === "stopped");
    const sent = await chat.send(thread, "slow please");
    await started.done;
    const busy = await call("POST", `/api/threads/${thread}/regenerate`, {});
    assert.equal(busy.status, 409, "no regenerate while an answer is being written");
    assert.match(String(busy.body.error), /stop it first/);
    const stopped = await call("POST", `/api/threads/${thread}/stop`, {});
    assert.deepEqual(stopped, { status: 200, body: { stopped: true, eventId: sent.eventId } });
    const seen = await stream.done;
    assert.deepEqual(seen.at(-1), { type: "stopped", eventId: sent.eventId });
    assert.ok(!seen.some((ev) => ev.type === "reply"), "no answer was delivered");
    assert.deepEqual(await history(thread), ["user: slow please"], "the partial answer is not kept");
    assert.deepEqual(await call("POST", `/api/threads/${thread}/stop`, {}), {
      status: 200,
      body: { stopped: false },
    });
  });
});
