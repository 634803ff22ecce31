// Starts a real gateway for a test: in-process (fast) or as a child process (crash tests). Always on an
// ephemeral port, with its own SQLite file in a fresh temp directory.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import type { Env } from "../../src/config/env.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway, type GatewayExtension } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { installPlugins, pluginSpecsIn } from "../../src/plugins/loader.ts";
import type { Store } from "../../src/store/types.ts";

export interface TestGatewayOptions {
  /** Written to clawgate.json in the gateway's directory (server.port defaults to 0). */
  config?: Record<string, unknown>;
  env?: Env;
  /** Reuse a directory (restart tests). */
  dir?: string;
  extensions?: GatewayExtension[];
}

export interface TestGateway {
  gateway: Gateway;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export function tempDir(prefix = "clawgate-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function writeConfig(dir: string, config: Record<string, unknown> = {}) {
  const server = { port: 0, ...((config.server as object) ?? {}) };
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify({ ...config, server }, null, 2));
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = opts.dir ?? tempDir();
  writeConfig(dir, opts.config);
  // Outside plugins named in the config (`plugins`), loaded as `clawgate start` loads them.
  await installPlugins(pluginSpecsIn(join(dir, "clawgate.json")), { baseDir: dir, cwd: dir });
  const { config, env } = loadConfig({ cwd: dir, env: { ...opts.env }, channelEnv: channelEnvMappers() });
  const log = createLogger(process.env.CLAWGATE_TEST_LOG ?? "silent", { pretty: false });
  const gateway = await Gateway.create({ config, env, log, extensions: opts.extensions });
  await gateway.start();
  return { gateway, url: gateway.url, dir, stop: () => gateway.stop() };
}

export interface ChildGateway {
  proc: ChildProcess;
  url: string;
  dir: string;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");

/** Runs `clawgate start` as a real process and resolves when it logs that it is ready. */
export async function startChildGateway(
  opts: TestGatewayOptions & { port?: number } = {},
): Promise<ChildGateway> {
  const dir = opts.dir ?? tempDir();
  writeConfig(dir, {
    ...opts.config,
    server: { port: opts.port ?? 0, ...((opts.config?.server as object) ?? {}) },
  });
  const proc = spawn(process.execPath, [MAIN, "start"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CLAWGATE_LOG_LEVEL: "info", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"clawgate is ready"/.exec(out);
      if (m) resolveUrl(m[1]!);
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    exited.then((code) => reject(new Error(`gateway exited with ${code} before it was ready:\n${out}`)));
  });
  return {
    proc,
    url,
    dir,
    output: () => out,
    kill: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false), failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until every inbound event is handled and every delivery has gone out (nothing pending or leased). */
export function queuesDrained(
  store: Pick<Store, "inboxStats" | "outboxStats">,
  timeoutMs = 10_000,
  what = "inbox and outbox to drain",
): Promise<true> {
  return waitFor(
    async () => {
      const i = await store.inboxStats();
      const o = await store.outboxStats();
      return i.pending + i.leased + o.pending + o.leased === 0;
    },
    timeoutMs,
    what,
  );
}
