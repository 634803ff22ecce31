// A job's progress line in the chat that asked. Channels with a live view (web chat) get every update;
// channels that can edit get one message edited at a polite rate; the rest get none (the /run answer already
// said the job is queued, and the result follows). Progress is a courtesy: a failure just stops it.
import type { Logger } from "pino";
import type { ChannelAdapter } from "../../channels/types.ts";
import { hasLivePreview } from "../../channels/types.ts";
import type { DeliveryAddress } from "../../core/event.ts";

export class ProgressMessage {
  readonly #adapter: ChannelAdapter;
  readonly #address: DeliveryAddress;
  readonly #key: string;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #onMessageId: (id: string) => void;
  #messageId: string | undefined;
  #latest = "";
  #shown = "";
  #lastAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(opts: {
    adapter: ChannelAdapter;
    address: DeliveryAddress;
    key: string;
    intervalMs: number;
    log: Logger;
    messageId?: string;
    onMessageId: (id: string) => void;
  }) {
    this.#adapter = opts.adapter;
    this.#address = opts.address;
    this.#key = opts.key;
    this.#intervalMs = Math.max(opts.intervalMs, opts.adapter.capabilities.minEditIntervalMs);
    this.#log = opts.log;
    this.#messageId = opts.messageId;
    this.#onMessageId = opts.onMessageId;
  }

  update(text: string) {
    this.#latest = text;
    if (hasLivePreview(this.#adapter)) {
      this.#adapter.preview(this.#address, this.#key, text);
      return;
    }
    if (!this.#adapter.capabilities.edit || !this.#adapter.edit || this.#failed || this.#timer) return;
    const wait = Math.max(0, this.#lastAt + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#chain = this.#chain.then(() => this.#push(this.#latest));
    }, wait);
  }

  /** Shows the final line on the edited message (if there is one) and stops. */
  async finish(finalText: string) {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#chain;
    if (this.#messageId && !this.#failed) await this.#push(finalText);
  }

  async #push(text: string) {
    if (!text || text === this.#shown) return;
    try {
      if (this.#messageId) await this.#adapter.edit!(this.#address, this.#messageId, { text });
      else {
        const sent = await this.#adapter.send(this.#address, { text, kind: "notice" });
        this.#messageId = sent.messageId;
        if (sent.messageId) this.#onMessageId(sent.messageId);
      }
      this.#shown = text;
    } catch (err) {
      this.#failed = true;
      this.#log.debug(
        { err: (err as Error).message, channel: this.#address.channel },
        "job progress update failed",
      );
    } finally {
      this.#lastAt = Date.now();
    }
  }
}

/** One progress message per open job, made on first use and finished with the job. */
export class ProgressMessages {
  readonly #byJob = new Map<string, ProgressMessage>();
  readonly #intervalMs: number;
  readonly #log: Logger;

  constructor(intervalMs: number, log: Logger) {
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** Undefined when the job's chat has no channel any more. */
  for(job: { promptId: string; deliverTo: DeliveryAddress }, adapter: ChannelAdapter | undefined) {
    let p = this.#byJob.get(job.promptId);
    if (p || !adapter) return p;
    p = new ProgressMessage({
      adapter,
      address: job.deliverTo,
      key: `comfyui:${job.promptId}`,
      intervalMs: this.#intervalMs,
      log: this.#log,
      onMessageId: () => {},
    });
    this.#byJob.set(job.promptId, p);
    return p;
  }

  async finish(promptId: string, text: string) {
    const p = this.#byJob.get(promptId);
    this.#byJob.delete(promptId);
    await p?.finish(text).catch(() => {});
  }
}

/** "step 3/20 ▓▓▓░░░░░░░ 15% (node 3 KSampler)" */
export function progressLine(value: number, max: number, node?: string, nodeType?: string): string {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  const filled = Math.round(pct / 10);
  const bar = "▓".repeat(filled) + "░".repeat(10 - filled);
  return `step ${value}/${max} ${bar} ${pct}%${node ? ` (node ${node}${nodeType ? ` ${nodeType}` : ""})` : ""}`;
}
