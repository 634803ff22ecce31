// Singleton work across replicas: something that must run in exactly one process of a deployment at a time
// (the scheduler, the async-callback expiry sweep, a Telegram poller, a Discord shard). The heartbeat itself is
// src/runtime/lease-keeper.ts; this module adds the loop around it that most callers want.
import type { Logger } from "pino";
import { createLogger } from "../log.ts";
import type { Store } from "../store/types.ts";
import { LeaseKeeper } from "./lease-keeper.ts";

export interface SingletonOptions {
  log?: Logger;
  /** Wait between attempts while another replica holds the lease, and after the work ended (default ttl/2). */
  retryMs?: number;
}

export interface Singleton {
  /** True while this process holds the lease and the work is running here. */
  readonly running: boolean;
  /** Aborts the work, waits for it to return, and releases the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

/**
 * Runs `work` in exactly one replica at a time, for as long as this process holds the store lease `name`.
 *
 * - `owner` identifies this process: pass `gateway.owner` (or `ctx.owner` in a channel).
 * - `ttlMs` bounds failover: when the holder dies (SIGKILL, network cut) another replica takes over at most
 *   `ttlMs + retryMs` later. 15–30 s suits pollers; shorter TTLs cost more store writes (every ttl/3 one
 *   renewal write per replica, shared by all the singletons it holds — src/runtime/lease-renewals.ts).
 * - `work(signal)` starts once the lease is taken. It must watch `signal` and return promptly when it aborts:
 *   that happens when a renewal fails (another replica took the lease, or the store could not confirm it —
 *   the work stops before the lease can expire under it) and on stop(). Keep state that must survive a
 *   takeover (offsets, cursors) in the store, not in memory: the next holder starts from there.
 * - When `work` returns or throws on its own, the lease is released (so a healthy replica can try) and
 *   acquisition is retried after `retryMs`; errors are logged, never thrown.
 * - Replicas that do not hold the lease retry every `retryMs`, so exactly one of them picks the work up.
 *
 * ```ts
 * const poller = runSingleton(store, `telegram:poller:${botId}`, gateway.owner, 30_000, async (signal) => {
 *   while (!signal.aborted) await pollOnce(signal);
 * }, { log });
 * // on shutdown:
 * await poller.stop();
 * ```
 */
export function runSingleton(
  store: Store,
  name: string,
  owner: string,
  ttlMs: number,
  work: (signal: AbortSignal) => Promise<void>,
  options: SingletonOptions = {},
): Singleton {
  const log = options.log ?? createLogger("silent", { pretty: false });
  const retryMs = options.retryMs ?? Math.max(100, Math.floor(ttlMs / 2));
  let current: AbortController | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const keeper = new LeaseKeeper({
    store,
    name,
    owner,
    ttlMs,
    log,
    onLost: () => current?.abort(new Error(`lease ${name} lost`)),
  });

  const idle = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, retryMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopped) {
      if (await keeper.acquire()) {
        // stop() may have come while the take was in flight: it found nothing to abort, so do not start now.
        if (stopped) break;
        const controller = new AbortController();
        current = controller;
        log.info({ lease: name, owner }, "singleton work started here");
        try {
          await work(controller.signal);
        } catch (err) {
          if (!controller.signal.aborted) log.error({ lease: name, err }, "singleton work failed");
        }
        current = undefined;
        // Ended on its own, lost the lease, or stopping: either way give the lease back (a no-op when lost).
        await keeper.release();
        if (!stopped)
          log.info({ lease: name, owner }, "singleton work ended here; will try to take it again");
      }
      if (!stopped) await idle();
    }
  })();

  return {
    get running() {
      return current !== undefined && keeper.held;
    },
    async stop() {
      stopped = true;
      current?.abort(new Error("stopping"));
      wake?.();
      await loop;
      await keeper.release();
    },
  };
}
