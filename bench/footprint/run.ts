// npm run bench:footprint — how long `clawgate start` takes to be ready and how much memory it holds once idle,
// against the floor of the same machine in the same run: a bare `node` that opens an HTTP server and says so.
// Two configurations: the default (web chat only) and every channel configured, each against its fake platform
// (test/fakes/), Discord's gateway socket and Telegram's long polling included. Each start is timed from spawn
// to the "clawgate is ready" log line; RSS is VmRSS from /proc/<pid>/status after the process has settled.
// Starts go through bin/clawgate.js, as a user's do, with a fresh compile cache: the first start of the run is
// the cold one (a new install), the rest find the cache warm. Rounds interleave the three kinds so all see
// the same machine load.
//
//   npm run bench:footprint -- [--rounds 5] [--settle-ms 2000] [--bin <another checkout>/bin/clawgate.js]
//     [--no-cache] (NODE_DISABLE_COMPILE_CACHE=1: every start strips and compiles, as before the cache)
//     [--compare <another checkout>/bin/clawgate.js] (also measures that build, interleaved in the same rounds,
//     so a change is judged against the load of the same minutes)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FakeDiscord, fakeDiscordToken } from "../../test/fakes/discord.ts";
import { FakeLine } from "../../test/fakes/line.ts";
import { FakeSlack } from "../../test/fakes/slack.ts";
import { FakeTelegram } from "../../test/fakes/telegram.ts";
import { FakeTwilio } from "../../test/fakes/twilio.ts";
import { FakeWechat } from "../../test/fakes/wechat.ts";
import { FakeWhatsapp } from "../../test/fakes/whatsapp.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    "settle-ms": { type: "string", default: "2000" },
    "no-cache": { type: "boolean", default: false },
    bin: { type: "string", default: resolve(import.meta.dirname, "../../bin/clawgate.js") },
    compare: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const SETTLE_MS = Number(args["settle-ms"]);
const BIN = args.bin;

interface Sample {
  readyMs: number;
  rssMb: number;
}

const FLOOR_SCRIPT = `require("node:http").createServer((q, s) => s.end()).listen(0, "127.0.0.1", () => console.log("clawgate is ready"))`;

/** Spawns, waits for the ready line, lets the process settle, reads its RSS, and stops it. */
async function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const started = performance.now();
  const proc: ChildProcess = spawn(process.execPath, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const readyMs = await new Promise<number>((res, rej) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("clawgate is ready")) res(performance.now() - started);
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    void exited.then(() => rej(new Error(`exited before it was ready:\n${out}`)));
  });
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  proc.kill("SIGTERM");
  await exited;
  return { readyMs, rssMb: rssKb / 1024 };
}

function gatewayDir(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "clawgate-footprint-"));
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify({ server: { port: 0 }, ...config }, null, 2));
  return dir;
}

const telegramBot = { token: "111111:AAbbCCddEEffGGhh", id: 111111, username: "footprint_bot" };
const discordBot = {
  id: "123456789012345678",
  username: "footprint",
  token: fakeDiscordToken("123456789012345678"),
};
const telegram = await new FakeTelegram([telegramBot]).start();
const discord = await new FakeDiscord(discordBot).start();
const slack = await new FakeSlack().start();
const line = await new FakeLine().start();
const whatsapp = await new FakeWhatsapp().start();
const wechat = await new FakeWechat().start();
const twilio = await new FakeTwilio().start();

const allChannels = {
  agentUrl: "http://127.0.0.1:9/v1",
  channels: {
    telegram: { botToken: telegramBot.token, allowedUsers: "42" },
    discord: { token: discordBot.token, allowedUsers: "500" },
    slack: { botToken: slack.token, signingSecret: "s", allowedUsers: ["UALICE"], apiBase: slack.apiBase },
    line: { channelSecret: "s", channelAccessToken: line.token, allowedUsers: ["Ualice"], apiBase: line.url },
    whatsapp: {
      accessToken: whatsapp.token,
      verifyToken: "verify",
      appSecret: "s",
      phoneNumberId: whatsapp.phoneNumberId,
      allowedUsers: ["15551230001"],
      apiBase: whatsapp.url,
    },
    wechat: {
      token: "wechat-token",
      appId: wechat.appId,
      appSecret: wechat.appSecret,
      allowedUsers: ["openid_alice"],
      apiBase: wechat.url,
    },
    kakao: { allowedUsers: "kakao_alice" },
    sms: {
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: "+15550001111",
      allowedUsers: "+15551230001",
      apiBase: twilio.url,
      publicUrl: "https://sms.example.com/sms/webhook",
    },
  },
};

const cacheDir = mkdtempSync(join(tmpdir(), "clawgate-compile-cache-"));
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...(args["no-cache"] ? { NODE_DISABLE_COMPILE_CACHE: "1" } : { NODE_COMPILE_CACHE: cacheDir }),
  OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: telegram.url,
  OPENCLAW_CONNECTOR_DISCORD_API_BASE: discord.url,
};
const kinds: Record<string, () => Promise<Sample>> = {
  floor: () => measure(["-e", FLOOR_SCRIPT], tmpdir(), env),
  default: () => measure([BIN, "start"], gatewayDir({}), env),
  "all channels": () => measure([BIN, "start"], gatewayDir(allChannels), env),
};
const COMPARE = args.compare;
if (COMPARE) {
  kinds["default (compare)"] = () => measure([COMPARE, "start"], gatewayDir({}), env);
  kinds["all ch. (compare)"] = () => measure([COMPARE, "start"], gatewayDir(allChannels), env);
}

const load = [loadavg()[0]!];
const cold = await kinds.default!();
// The compared build's first start would be its cold one: keep it out of the medians.
if (COMPARE) await kinds["default (compare)"]!();
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [kind, run] of Object.entries(kinds)) samples[kind]!.push(await run());
  load.push(loadavg()[0]!);
}
for (const fake of [telegram, discord, slack, line, whatsapp, wechat, twilio]) await fake.stop();
rmSync(cacheDir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floor = {
  readyMs: median(samples.floor.map((s) => s.readyMs)),
  rssMb: median(samples.floor.map((s) => s.rssMb)),
};
console.log(
  `clawgate start footprint: ${ROUNDS} rounds, settled ${SETTLE_MS} ms, ${cpus().length} CPUs, 1-min load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
);
console.log(
  `cold start (empty compile cache, default config): ready in ${cold.readyMs.toFixed(0)} ms, ${cold.rssMb.toFixed(0)} MB`,
);
if (COMPARE) console.log(`compared with ${COMPARE}`);
console.log("kind                ready (median)   × floor   RSS (median)   × floor");
for (const [kind, list] of Object.entries(samples)) {
  const ready = median(list.map((s) => s.readyMs));
  const rss = median(list.map((s) => s.rssMb));
  console.log(
    `${kind.padEnd(19)} ${`${ready.toFixed(0)} ms`.padStart(14)} ${(ready / floor.readyMs).toFixed(1).padStart(9)} ${`${rss.toFixed(0)} MB`.padStart(14)} ${(rss / floor.rssMb).toFixed(1).padStart(9)}`,
  );
}
