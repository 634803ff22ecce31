// Files sent through the web chat API: kept in the media store for the thread, fetched back by the adapter for
// that thread only, shown again in the thread's history, and refused with a 413 that names the file and the
// limit when too large (the message is then not taken at all).
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

const limits = () => ({ maxBytes: 1024 * 1024, signal: new AbortController().signal });
/** A PNG signature and then noise: whatever the bytes are, they must come back exactly. */
const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(4000)]);

interface Posted {
  status: number;
  body: { eventId?: string; error?: string; duplicate?: boolean };
}

async function postMessage(base: string, thread: string, body: Record<string, unknown>): Promise<Posted> {
  const res = await fetch(`${base}/api/threads/${thread}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clientMessageId: randomUUID().replace(/-/g, ""), ...body }),
  });
  return { status: res.status, body: (await res.json()) as Posted["body"] };
}

describe("web chat attachments", () => {
  let agent: FakeAgent;
  let gw: TestGateway;
  let small: TestGateway;
  let chat: WebchatClient;

  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({ config: { agentUrl: agent.url } });
    // 4 KB for pictures, 1 KB for other files (and 2 KB for audio and video): small enough to exceed in a test.
    const inbound = { maxImageMb: 4 / 1024, maxFileMb: 1 / 1024, maxAudioMb: 2 / 1024, maxVideoMb: 2 / 1024 };
    small = await startTestGateway({ config: { agentUrl: agent.url, media: { inbound } } });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw?.stop();
    await small?.stop();
    await agent?.stop();
  });

  const adapter = () => gw.gateway.adapter("webchat", "default")!;
  const eventOf = async (g: TestGateway, id: string) => {
    const item = (await g.gateway.store.listInbound({ limit: 200 })).find((i) => i.id === id);
    return item && (JSON.parse(item.payload) as InboundEvent);
  };

  test("a picture posted with a message is stored for the thread and fetched back with its exact bytes", async () => {
    const thread = await chat.createThread();
    const posted = await postMessage(gw.url, thread, {
      text: "what is in this picture?",
      attachments: [{ name: "cat.png", mime: "image/png", dataBase64: png.toString("base64") }],
    });
    assert.equal(posted.status, 202, posted.body.error);
    const event = await eventOf(gw, posted.body.eventId!);
    assert.equal(event?.attachments.length, 1);
    const [a] = event!.attachments;
    assert.deepEqual(
      { kind: a!.kind, mime: a!.mime, name: a!.name, size: a!.size },
      { kind: "image", mime: "image/png", name: "cat.png", size: png.length },
    );
    assert.match(a!.platformId ?? "", new RegExp(`^${thread}/m_[a-f0-9]{32}$`));
    const got = await adapter().fetchAttachment!(a!, limits());
    assert.ok(got.bytes.equals(png), "the exact bytes");
    assert.equal(got.mime, "image/png");
    assert.equal(got.name, "cat.png");

    // Reopening the thread shows the picture with the user's message.
    await chat.reply(thread, posted.body.eventId!);
    const res = await fetch(`${gw.url}/api/threads/${thread}/messages`);
    const { messages } = (await res.json()) as {
      messages: {
        role: string;
        content: string;
        media?: { mime: string; filename?: string; dataBase64?: string }[];
      }[];
    };
    const user = messages.find((m) => m.role === "user");
    assert.equal(user?.content, "what is in this picture?");
    assert.deepEqual(user?.media, [
      { mime: "image/png", filename: "cat.png", dataBase64: png.toString("base64") },
    ]);
  });

  test("a thread cannot fetch another thread's file", async () => {
    const [mine, other] = [await chat.createThread(), await chat.createThread()];
    const posted = await postMessage(gw.url, mine, {
      text: "",
      attachments: [
        { name: "notes.txt", mime: "text/plain", dataBase64: Buffer.from("secret notes").toString("base64") },
      ],
    });
    assert.equal(posted.status, 202, posted.body.error);
    const [a] = (await eventOf(gw, posted.body.eventId!))!.attachments;
    assert.equal(a?.kind, "file");
    const id = a!.platformId!.split("/")[1];
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "file", platformId: `${other}/${id}` }, limits()),
      AttachmentUnavailableError,
    );
    assert.equal(
      (await adapter().fetchAttachment!(a!, limits())).bytes.toString(),
      "secret notes",
      "its own thread still can",
    );
  });

  test("a repeated post of the same message keeps its files once", async () => {
    const thread = await chat.createThread();
    const body = {
      clientMessageId: "retry-0123456789",
      text: "twice",
      attachments: [{ name: "a.png", mime: "image/png", dataBase64: png.toString("base64") }],
    };
    const first = await postMessage(gw.url, thread, body);
    const second = await postMessage(gw.url, thread, body);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.eventId, first.body.eventId);
    const [a] = (await eventOf(gw, first.body.eventId!))!.attachments;
    assert.ok(a?.platformId);
  });

  test("a file over its kind's limit is refused with 413 naming the file and the setting, and nothing is taken", async () => {
    const thread = await new WebchatClient(small.url).createThread();
    const big = randomBytes(5000).toString("base64");
    const posted = await postMessage(small.url, thread, {
      text: "keep this text",
      attachments: [{ name: "holiday.png", mime: "image/png", dataBase64: big }],
    });
    assert.equal(posted.status, 413);
    assert.equal(
      posted.body.error,
      '"holiday.png" is 4.9 KB; pictures may be at most 4.0 KB (media.inbound.maxImageMb). Nothing was sent: remove it or send a smaller one.',
    );
    const pdf = await postMessage(small.url, thread, {
      attachments: [
        { name: "report.pdf", mime: "application/pdf", dataBase64: randomBytes(2000).toString("base64") },
      ],
    });
    assert.equal(pdf.status, 413);
    assert.match(
      pdf.body.error ?? "",
      /^"report\.pdf" is 2\.0 KB; files may be at most 1\.0 KB \(media\.inbound\.maxFileMb\)/,
    );
    assert.equal((await small.gateway.store.listInbound({ limit: 50 })).length, 0, "no message was taken");

    // A body past the route's limit is refused before it is read.
    const huge = await postMessage(small.url, thread, {
      attachments: [{ name: "x.png", mime: "image/png", dataBase64: "A".repeat(400_000) }],
    });
    assert.equal(huge.status, 413);
    assert.match(huge.body.error ?? "", /body too large/);
  });

  test("malformed attachments are a 400 that says what is expected", async () => {
    const thread = await chat.createThread();
    const cases: [unknown, RegExp][] = [
      [{ name: "a" }, /dataBase64 must be the file's bytes in base64/],
      ["nope", /attachments must be a list/],
    ];
    for (const [attachments, error] of cases) {
      const r = await postMessage(gw.url, thread, {
        text: "x",
        attachments:
          Array.isArray(attachments) || typeof attachments === "string" ? attachments : [attachments],
      });
      assert.equal(r.status, 400);
      assert.match(r.body.error ?? "", error);
    }
  });
});
