// Long polling: one getUpdates consumer per bot, held by a store lease so replicas never poll the same bot twice
// (Telegram answers a second consumer with 409 Conflict). The offset is advanced — and persisted in the store —
// only after every update of a batch was committed to the inbox, so a crash re-asks for exactly what was not
// yet committed and the inbox drops the redeliveries by event id.
import type { Logger } from "pino";
import { runSingleton, type Singleton } from "../../runtime/singleton.ts";
import type { Store } from "../../store/types.ts";
import type { HealthTracker } from "../sdk/health.ts";
import { isStatus, type TelegramClient, telegramDescription } from "./client.ts";

const OFFSET_NS = "telegram:offset";

export interface PollerOptions {
  client: TelegramClient;
  /** The bot's numeric id: the lease and the offset belong to the bot, whatever account name it has. */
  botId: string;
  account: string;
  store: Store;
  owner: string;
  log: Logger;
  health: HealthTracker;
  pollTimeoutSec: number;
  leaseTtlMs: number;
  /**
   * Commits the batch; throws when the inbox could not take it (the batch is then asked for again). An update it
   * cannot read must not throw: it is recorded and skipped, or it would be asked for again forever.
   */
  handle(updates: unknown[]): Promise<void>;
}

export class TelegramPoller {
  readonly #o: PollerOptions;
  #singleton: Singleton | undefined;
  #failures = 0;

  constructor(o: PollerOptions) {
    this.#o = o;
  }

  /** Polls while this process holds the bot's lease; replicas without it stand by and take over on failover. */
  start() {
    const { store, botId, owner, leaseTtlMs, log } = this.#o;
    this.#singleton ??= runSingleton(
      store,
      `telegram:poller:${botId}`,
      owner,
      leaseTtlMs,
      (signal) => this.#run(signal),
      {
        log,
      },
    );
  }

  async stop() {
    await this.#singleton?.stop();
  }

  async #run(signal: AbortSignal) {
    const { log, health, account } = this.#o;
    log.info({ account }, "telegram: polling for updates");
    while (!signal.aborted) {
      try {
        await this.#pollOnce(signal);
        if (this.#failures > 0) log.info({ account }, "telegram: polling recovered");
        this.#failures = 0;
        health.status("running");
      } catch (err) {
        if (signal.aborted) break;
        await sleep(this.#onError(err), signal);
      }
    }
  }

  async #pollOnce(signal: AbortSignal) {
    const { client, store, botId, pollTimeoutSec, handle } = this.#o;
    const saved = await store.kvGet(OFFSET_NS, botId);
    const offset = saved === undefined ? undefined : Number(saved);
    const updates = await client.getUpdates(offset, pollTimeoutSec, signal);
    if (updates.length === 0) return;
    updates.sort((a, b) => updateIdOf(a) - updateIdOf(b));
    await handle(updates);
    const last = updateIdOf(updates.at(-1));
    if (last >= 0) await store.kvSet(OFFSET_NS, botId, String(last + 1));
  }

  /** Logs what went wrong in words an operator can act on; returns how long to wait before the next poll. */
  #onError(err: unknown): number {
    const { log, health, account } = this.#o;
    this.#failures++;
    const backoff = Math.min(60_000, 1000 * 2 ** Math.min(6, this.#failures - 1));
    let message: string;
    if (isStatus(err, 409)) {
      const why = telegramDescription(err);
      message = /webhook/i.test(why)
        ? `Telegram refused getUpdates for account "${account}": a webhook is set for this bot. Run \`clawgate channels telegram delete-webhook --account ${account}\` or set mode "webhook". (${why})`
        : `Telegram refused getUpdates for account "${account}" with 409 Conflict: another program is polling this bot (another clawgate not sharing this database, or an old bot process). Stop it; only one getUpdates consumer per bot token can run. (${why})`;
    } else if (isStatus(err, 401) || isStatus(err, 404)) {
      message = `Telegram rejected the bot token of account "${account}" (${telegramDescription(err)}). Copy it again from @BotFather.`;
    } else {
      message = `telegram polling failed for account "${account}": ${(err as Error).message}; retrying in ${Math.round(backoff / 1000)} s`;
    }
    health.error(message);
    health.status("error");
    // Repeated identical failures are logged once a minute at most; the health record always has the latest.
    if (this.#failures === 1 || backoff >= 60_000 || isStatus(err, 409)) log.error(message);
    return isStatus(err, 409) ? Math.max(backoff, 5000) : backoff;
  }
}

/** Telegram's update ids are positive; -1 stands for an element without one (it sorts first, moves nothing). */
function updateIdOf(update: unknown): number {
  const id = (update as { update_id?: unknown } | null)?.update_id;
  return Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : -1;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
