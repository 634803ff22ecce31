// Wires the async agent mode when `async: true`: the callback listener, the target switch (every conversation
// whose target is the OpenAI-compatible agent goes through AsyncOpenAiTarget), and the expiry sweeper — a
// singleton under a store lease, so with several replicas exactly one tells chats that their agent went quiet.
import type { ExtensionHost } from "../../gateway/host.ts";
import type { HttpServer } from "../../http/server.ts";
import { createCallbackServer } from "./async-callback-server.ts";
import { CallbackTokens } from "./async-callbacks.ts";
import { AsyncOpenAiTarget } from "./async-target.ts";
import { OpenAiTarget } from "./target.ts";

const LEASE = "ocg-callback-sweeper";

export interface AsyncMode {
  server: HttpServer;
  tokens: CallbackTokens;
  callbackBase(): string;
  stop(): Promise<void>;
}

/** A wait as people read it: "45 s", "30 min", "1 min 30 s" — seconds under a minute, never "0 min". */
export function waitText(ms: number): string {
  const totalSec = Math.max(1, Math.round(ms / 1000));
  if (totalSec < 60) return `${totalSec} s`;
  const min = Math.floor(totalSec / 60);
  const sec = totalSec % 60;
  return sec === 0 ? `${min} min` : `${min} min ${sec} s`;
}

/** The base URL agents are told to call: callbackPublicUrl, else the listener with 0.0.0.0 shown as 127.0.0.1. */
export function advertisedCallbackBase(gw: ExtensionHost, port: number): string {
  const configured = gw.config.security.callbackPublicUrl;
  if (configured) return configured.replace(/\/+$/, "");
  const host = gw.config.callbackHost ?? "0.0.0.0";
  const shown =
    host === "0.0.0.0" || host === ""
      ? "127.0.0.1"
      : host === "::"
        ? "[::1]"
        : host.includes(":")
          ? `[${host}]`
          : host;
  return `http://${shown}:${port}`;
}

export async function startAsyncMode(gw: ExtensionHost): Promise<AsyncMode> {
  const ttlMs = (gw.config.callbackTokenTTL ?? 1800) * 1000;
  const tokens = new CallbackTokens(gw.kv, ttlMs);
  const log = gw.log.child({ component: "async-callbacks" });
  const server = createCallbackServer(gw, tokens, log);
  await server.listen();
  const callbackBase = () => advertisedCallbackBase(gw, server.address.port);
  log.info({ url: callbackBase() }, "async agent callback listener open");

  const targets = new WeakMap<object, AsyncOpenAiTarget>();
  gw.targetDecorators.add((_event, fallback) => {
    if (!(fallback instanceof OpenAiTarget)) return fallback;
    let t = targets.get(fallback);
    if (!t) {
      t = new AsyncOpenAiTarget(fallback, tokens, callbackBase);
      targets.set(fallback, t);
    }
    return t;
  });

  const everyMs = Math.max(1000, Math.min(30_000, Math.floor(ttlMs / 2)));
  let sweeping = false;
  const timer = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      if (!(await gw.leases.acquireLease(LEASE, gw.owner, everyMs * 3))) return;
      await tokens.sweep(async (record, id) => {
        await gw.services.deliver(
          record.address,
          {
            kind: "error",
            text: `⚠️ The agent did not answer within ${waitText(ttlMs)}. Send your message again if you still need it.`,
          },
          `ocg-expired:${id}`,
        );
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, "async callback sweep failed");
    } finally {
      sweeping = false;
    }
  }, everyMs);
  timer.unref();

  return {
    server,
    tokens,
    callbackBase,
    async stop() {
      clearInterval(timer);
      await server.close();
      await gw.leases.releaseLease(LEASE, gw.owner).catch(() => {});
    },
  };
}
