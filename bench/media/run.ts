// npm run bench:media — what a 1 MB photo adds to a message end to end, against what it must cost: the download
// from the platform and the encoding for the agent, measured by hand in the same run. A channel with a file API
// (test/fakes/dm-channel.ts + file-host.ts) → the gateway (SQLite) → a fake agent that answers at once; each
// message is timed from its webhook to the answer reaching the channel. Text and photo messages alternate so
// both see the same machine load. Prints medians and the ratio.
//
//   npm run bench:media -- [--messages 30] [--kb 1024]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { channelModules } from "../../src/channels/registry.ts";
import { dmChannelModule, type SentRecord } from "../../test/fakes/dm-channel.ts";
import { FakeFileHost } from "../../test/fakes/file-host.ts";
import { FakeAgent } from "../../test/fakes/openai-agent.ts";
import { startTestGateway, waitFor } from "../../test/helpers/gateway.ts";

const { values: args } = parseArgs({
  options: { messages: { type: "string", default: "30" }, kb: { type: "string", default: "1024" } },
});
const N = Number(args.messages);
const TARGET_BYTES = Number(args.kb) * 1024;

/** A JPEG of about the target size: noise does not compress, so the size follows the pixel count. */
async function photoOfSize(bytes: number): Promise<Buffer> {
  let side = 600;
  for (;;) {
    const raw = Buffer.alloc(side * side * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
    const jpeg = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 92 })
      .toBuffer();
    if (jpeg.length >= bytes * 0.95) return jpeg;
    side = Math.ceil(side * Math.sqrt(bytes / jpeg.length) * 1.02);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const sent: SentRecord[] = [];
channelModules.benchchat = dmChannelModule("benchchat", sent);
const agent = await new FakeAgent().start();
const files = await new FakeFileHost().start();
const gw = await startTestGateway({
  config: {
    agentUrl: agent.url,
    agent: { stream: false, historyTurns: 0 },
    channels: { benchchat: { allowFrom: ["bench"], files: { baseUrl: files.url, token: files.token } } },
  },
});
const photo = await photoOfSize(TARGET_BYTES);
files.add("photo", photo, "image/jpeg");

async function timeMessage(attachments: unknown[]): Promise<number> {
  const before = sent.length;
  const started = performance.now();
  const res = await fetch(`${gw.url}/benchchat/in`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ senderId: "bench", text: "what is this?", attachments }),
  });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  await waitFor(() => sent.length > before, 30_000, "the answer");
  return performance.now() - started;
}

/**
 * The work a photo cannot avoid: fetch it from the platform, base64 it into the agent's request, and the agent
 * taking the larger request; counted as the difference to the same request without the picture.
 */
async function unavoidable(): Promise<number> {
  const ask = async (content: unknown) => {
    const r = await fetch(agent.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: false, messages: [{ role: "user", content }] }),
    });
    await r.arrayBuffer();
  };
  let started = performance.now();
  await ask("what is this?");
  const textOnly = performance.now() - started;
  started = performance.now();
  const r = await fetch(`${files.url}/files/photo`, { headers: { authorization: `Bearer ${files.token}` } });
  const bytes = Buffer.from(await r.arrayBuffer());
  await ask([
    { type: "text", text: "what is this?" },
    { type: "image_url", image_url: { url: `data:image/jpeg;base64,${bytes.toString("base64")}` } },
  ]);
  return performance.now() - started - textOnly;
}

const text: number[] = [];
const withPhoto: number[] = [];
const floor: number[] = [];
await timeMessage([]); // warm-up: first SQLite statements, first agent connection
await timeMessage([{ kind: "image", platformId: "photo" }]);
for (let i = 0; i < N; i++) {
  text.push(await timeMessage([]));
  withPhoto.push(await timeMessage([{ kind: "image", platformId: "photo" }]));
  floor.push(await unavoidable());
}
await gw.stop();
await agent.stop();
await files.stop();

const added = median(withPhoto) - median(text);
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `photo ${(photo.length / 1024).toFixed(0)} KB, ${N} messages each, load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(`text message, webhook → answer:   median ${ms(median(text))}`);
console.log(`photo message, webhook → answer:  median ${ms(median(withPhoto))}`);
console.log(`added by the photo:               ${ms(added)}`);
console.log(`floor: download + base64 + agent:  median ${ms(median(floor))}`);
console.log(`ratio added / floor:              ${(added / median(floor)).toFixed(2)}`);
