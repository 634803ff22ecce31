// Button presses (message component interactions) must be answered within 3 s. The pipeline answers with
// answerAction; when it is busy, the press is acknowledged after 2 s with a deferred update (type 6) so Discord
// does not show "This interaction failed", and the answer then goes as an ephemeral follow-up.
import type { Logger } from "pino";
import type { InboundEvent } from "../../core/event.ts";
import { cutText } from "../../core/text-cut.ts";
import { type DiscordClient, DiscordRefusedError } from "./client.ts";
import { DISCORD_MAX_TEXT } from "./format.ts";

/** Discord shows "This interaction failed" after 3 s without an answer: acknowledge before that. */
const INTERACTION_ACK_MS = 2000;

export class ButtonPresses {
  readonly #client: DiscordClient;
  readonly #log: Logger;
  readonly #account: string;
  readonly #botId: string;
  readonly #pending = new Map<string, NodeJS.Timeout>();

  constructor(o: { client: DiscordClient; log: Logger; account: string; botId: string }) {
    this.#client = o.client;
    this.#log = o.log;
    this.#account = o.account;
    this.#botId = o.botId;
  }

  /**
   * Arms the fallback acknowledgement. Discord's clock started when the press arrived, so time spent resolving and
   * storing counts too; arm it before ingest so a quick pipeline answer always finds it.
   */
  arm(id: string, token: string, arrivedAt: number) {
    const timer = setTimeout(
      () => {
        this.#pending.delete(id);
        this.#client.interactionCallback(id, token, 6).catch((err: Error) => {
          this.#log.warn(
            { account: this.#account, err: err.message },
            "discord: acknowledging a button press failed",
          );
        });
      },
      Math.max(0, INTERACTION_ACK_MS - (Date.now() - arrivedAt)),
    );
    timer.unref();
    this.#pending.set(id, timer);
  }

  /**
   * Answers a press: with an ephemeral message (only the presser sees it) or a silent acknowledgement. When the
   * press was already acknowledged (here after 2 s, or by another replica) the text goes as a follow-up.
   */
  async answer(event: InboundEvent, text?: string): Promise<void> {
    const ctx = event.replyContext ?? {};
    const id = String(ctx.interactionId ?? event.action?.id ?? "");
    const token = String(ctx.interactionToken ?? "");
    const appId = String(ctx.applicationId ?? this.#botId);
    if (!id || !token) return;
    const pending = this.#pending.get(id);
    if (pending) clearTimeout(pending);
    this.#pending.delete(id);
    const data = text ? { content: cutText(text, DISCORD_MAX_TEXT), flags: 64 } : undefined;
    try {
      await this.#client.interactionCallback(id, token, data ? 4 : 6, data);
    } catch (err) {
      if (!(err instanceof DiscordRefusedError && err.code === 40060)) throw err;
      if (data) await this.#client.createFollowUp(appId, token, data);
    }
  }

  stop() {
    for (const t of this.#pending.values()) clearTimeout(t);
    this.#pending.clear();
  }
}
