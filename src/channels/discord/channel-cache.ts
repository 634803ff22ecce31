// Which channels are threads, and of which parent: learnt from GUILD_CREATE and channel/thread events, else asked
// once over REST. Threads are their own sessions under their parent channel (see normalize.ts).
import type { GatewayDispatchPayload } from "discord-api-types/v10";
import type { Logger } from "pino";
import type { DiscordClient } from "./client.ts";
import type { DcChannel } from "./types.ts";

export class ChannelCache {
  readonly #client: DiscordClient;
  readonly #log: Logger;
  readonly #account: string;
  readonly #channels = new Map<string, DcChannel>();

  constructor(o: { client: DiscordClient; log: Logger; account: string }) {
    this.#client = o.client;
    this.#log = o.log;
    this.#account = o.account;
  }

  /** Learns from a dispatch; true when it was a channel event (nothing else to do with it). */
  learn(p: GatewayDispatchPayload): boolean {
    switch (p.t) {
      case "GUILD_CREATE":
        for (const c of [...(p.d.channels ?? []), ...(p.d.threads ?? [])]) {
          this.#channels.set(c.id, {
            id: c.id,
            type: c.type,
            guild_id: p.d.id,
            parent_id: (c as DcChannel).parent_id,
          });
        }
        return true;
      case "THREAD_CREATE":
      case "CHANNEL_CREATE":
      case "CHANNEL_UPDATE":
        this.#channels.set(p.d.id, p.d as unknown as DcChannel);
        return true;
      default:
        return false;
    }
  }

  /** The guild channel `id`, when the payload says it is one (`guildId` is a string). */
  async resolve(guildId: unknown, id: unknown): Promise<DcChannel | undefined> {
    if (typeof guildId !== "string" || typeof id !== "string") return undefined;
    const known = this.#channels.get(id);
    if (known) return known;
    try {
      const c = await this.#client.channel(id);
      this.#channels.set(id, c);
      return c;
    } catch (err) {
      this.#log.warn(
        { account: this.#account, channel: id, err: (err as Error).message },
        "discord: channel lookup failed",
      );
      return undefined;
    }
  }
}
