// What a message carries besides text, end to end through the inbox worker: a channel with a file API
// (test/fakes/dm-channel.ts + test/fakes/file-host.ts) → download, sniff, media store → the fake agent's
// content parts; and pictures in the agent's answer → native pictures at the channel. Each platform's own file
// API is tested in test/channels/<platform>-media.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { channelModules } from "../../src/channels/registry.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeFileHost } from "../fakes/file-host.ts";
import { FakeAgent, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";

const sent: SentRecord[] = [];
channelModules.filechat = dmChannelModule("filechat", sent);

async function jpeg(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 40, b: 90 } } })
    .jpeg()
    .toBuffer();
}

describe("attachments reach the agent, pictures come back", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let files: FakeFileHost;
  before(async () => {
    agent = await new FakeAgent().start();
    files = await new FakeFileHost().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: { stream: false },
        media: { inbound: { maxImageMb: 0.05, maxFileMb: 1, maxTextChars: 200 } },
        channels: {
          filechat: {
            allowFrom: ["u1", "u2", "u3", "u4", "u5", "u6", "u7"],
            files: { baseUrl: files.url, token: files.token },
          },
        },
      },
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
    await files.stop();
  });

  const send = async (senderId: string, text: string, attachments: unknown[] = []) => {
    const res = await fetch(`${gw.url}/filechat/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ senderId, text, attachments }),
    });
    assert.equal(res.status, 200);
  };
  const settled = () => queuesDrained(gw.gateway.store);
  const repliesTo = (senderId: string) =>
    sent.filter((s) => s.to.conversationId === `dm-${senderId}`).map((s) => s.message);
  const lastRequest = () => agent.requests.at(-1)!;

  it("a photo without caption reaches the agent as an image part with the exact bytes", async () => {
    const photo = await jpeg(1);
    files.add("photo1", photo, "application/octet-stream");
    await send("u1", "", [{ kind: "image", platformId: "photo1" }]);
    await settled();
    const [image] = imagesOf(lastRequest());
    assert.equal(image?.mime, "image/jpeg", "typed from the bytes, not from the platform's octet-stream");
    assert.ok(image.bytes.equals(photo));
    assert.equal(repliesTo("u1").length, 1, "one answer, no note");
  });

  it("a later turn still sends the earlier picture from history", async () => {
    await send("u1", "and what colour was it?");
    await settled();
    const messages = lastRequest().body.messages;
    const earlier = messages.find((m) => Array.isArray(m.content));
    assert.ok(earlier, "the earlier user turn keeps its image part");
    assert.equal(textOf(messages.at(-1)!.content), "and what colour was it?");
  });

  it("a text file's content reaches the agent; a long one is cut with a note", async () => {
    files.add("notes", Buffer.from("line one\nline two\n"), "text/plain");
    await send("u2", "summarise", [{ kind: "file", platformId: "notes", name: "notes.txt" }]);
    await settled();
    const text = textOf(lastRequest().body.messages.at(-1)!.content);
    assert.match(text, /summarise/);
    assert.match(text, /\[file "notes\.txt"\]\nline one\nline two/);
    files.add("long", Buffer.from("x".repeat(500)), "text/plain");
    await send("u2", "and this", [{ kind: "file", platformId: "long", name: "long.txt" }]);
    await settled();
    assert.match(textOf(lastRequest().body.messages.at(-1)!.content), /x{200}\n\[… cut here\]/);
    assert.match(repliesTo("u2").at(-1)!.text, /only its first 200 characters were passed on/);
  });

  it("a PDF's text reaches the agent", async () => {
    const pdf = makePdf([{ lines: ["The invoice total is 42 euros."] }, { lines: ["Due on 1 March."] }]);
    files.add("invoice", pdf, "application/pdf");
    await send("u2", "what do I owe?", [{ kind: "file", platformId: "invoice", name: "invoice.pdf" }]);
    await settled();
    const text = textOf(lastRequest().body.messages.at(-1)!.content);
    assert.match(text, /\[file "invoice\.pdf"\]/);
    assert.match(text, /The invoice total is 42 euros\./);
    assert.match(text, /Due on 1 March\./);
  });

  it("a picture over the limit is refused before downloading; the caption still reaches the agent", async () => {
    const big = Buffer.concat([await jpeg(2), Buffer.alloc(60_000)]);
    files.add("big-declared", big, "image/jpeg");
    files.add("big-undeclared", big, "image/jpeg");
    await send("u3", "look at this", [{ kind: "image", platformId: "big-declared", size: big.length }]);
    await settled();
    assert.ok(
      !files.downloads.includes("big-declared"),
      "a declared size over the limit is never downloaded",
    );
    assert.equal(textOf(lastRequest().body.messages.at(-1)!.content), "look at this");
    assert.match(
      repliesTo("u3").at(-1)!.text,
      /^The picture is \d+ KB; the limit here is 52 KB, so it was not passed on/,
    );
    await send("u3", "", [{ kind: "image", platformId: "big-undeclared" }]);
    await settled();
    const notes = repliesTo("u3").map((m) => m.text);
    assert.match(notes.at(-1)!, /^The picture is larger than the limit of 52 KB/);
    assert.equal(
      (await gw.gateway.store.inboxStats()).dead,
      0,
      "nothing dead-lettered: the user got an answer",
    );
  });

  it("a file the platform no longer has gets a note; a location arrives as text", async () => {
    const calls = agent.requests.length;
    await send("u4", "", [{ kind: "file", platformId: "gone" }]);
    await settled();
    assert.match(repliesTo("u4").at(-1)!.text, /could not be downloaded from filechat/);
    assert.equal(agent.requests.length, calls, "nothing to ask the agent");
    await send("u4", "meet here", [
      { kind: "location", location: { latitude: 35.6812, longitude: 139.7671, name: "Tokyo Station" } },
    ]);
    await settled();
    assert.equal(
      textOf(lastRequest().body.messages.at(-1)!.content),
      "meet here\n[location] Tokyo Station (35.6812, 139.7671)",
    );
  });

  it("voice without a transcription server gets a note that says what to configure", async () => {
    files.add("voice1", Buffer.from("OggS\0\u0002fake-opus"), "audio/ogg");
    await send("u5", "", [{ kind: "voice", platformId: "voice1" }]);
    await settled();
    assert.match(repliesTo("u5").at(-1)!.text, /agent\.transcription\.url/);
  });

  it("pictures in the agent's answer arrive as native pictures, the text without them", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 4, background: "#f00" } })
      .png()
      .toBuffer();
    agent.options.reply = () =>
      `Here you go:\n\n![a red square](data:image/png;base64,${png.toString("base64")})\n\nEnjoy.`;
    try {
      await send("u6", "draw a red square");
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    const replies = repliesTo("u6");
    assert.equal(replies.length, 2, JSON.stringify(replies.map((r) => r.text)));
    assert.equal(replies[0]!.text, "Here you go:\n\n(a red square)\n\nEnjoy.");
    const [picture] = replies[1]!.media ?? [];
    assert.equal(picture?.mime, "image/png");
    assert.ok(Buffer.from(picture.dataBase64, "base64").equals(png));
    const history = await gw.gateway.store.listMessages("filechat:default:dm-u6");
    assert.ok(!history.some((m) => m.content.includes("base64")), "no data URL kept in history");
  });

  it("a text-only model: the answer still comes, the user is told once, later pictures are not sent", async () => {
    agent.options.textOnly = true;
    try {
      files.add("p7a", await jpeg(3), "image/jpeg");
      files.add("p7b", await jpeg(4), "image/jpeg");
      await send("u7", "what is this?", [{ kind: "image", platformId: "p7a" }]);
      await settled();
      const first = repliesTo("u7").map((m) => m.text);
      assert.equal(first.length, 2);
      assert.match(first[0]!, /^echo: what is this\?/);
      assert.match(first[1]!, /cannot see pictures/);
      const calls = agent.requests.length;
      await send("u7", "and this?", [{ kind: "image", platformId: "p7b" }]);
      await settled();
      assert.equal(
        agent.requests.length,
        calls + 1,
        "no refused request first: pictures are left out at once",
      );
      assert.match(
        textOf(lastRequest().body.messages.at(-1)!.content),
        /\[picture left out: this model cannot see pictures\]/,
      );
      const notes = repliesTo("u7").filter((m) => m.kind === "notice" && /cannot see pictures/.test(m.text));
      assert.equal(notes.length, 1, "said once");
    } finally {
      agent.options.textOnly = false;
    }
  });
});

describe('agent.imageTransport "url"', () => {
  it("the agent gets a signed clawgate link that serves the exact bytes, and nothing else", async () => {
    const agent = await new FakeAgent().start();
    const files = await new FakeFileHost().start();
    const gw = await startTestGateway({
      env: { OPENCLAW_CONNECTOR_PUBLIC_BASE_URL: "https://gw.example.test" },
      config: {
        agentUrl: agent.url,
        agent: { stream: false, imageTransport: "url" },
        channels: { filechat: { allowFrom: ["u1"], files: { baseUrl: files.url, token: files.token } } },
      },
    });
    try {
      const photo = await jpeg(9);
      files.add("p1", photo, "image/jpeg");
      await fetch(`${gw.url}/filechat/in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          senderId: "u1",
          text: "see",
          attachments: [{ kind: "image", platformId: "p1" }],
        }),
      });
      await waitFor(() => agent.requests.length === 1);
      const content = agent.requests[0]!.body.messages.at(-1)!.content as unknown as {
        type: string;
        image_url?: { url: string };
      }[];
      const link = content.find((p) => p.type === "image_url")?.image_url?.url ?? "";
      assert.match(link, /^https:\/\/gw\.example\.test\/media\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const res = await fetch(gw.url + link.slice("https://gw.example.test".length));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/jpeg");
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));
      const tampered = await fetch(`${gw.url}${new URL(link).pathname.slice(0, -2)}xx`);
      assert.equal(tampered.status, 403);
    } finally {
      await gw.stop();
      await agent.stop();
      await files.stop();
    }
  });
});
