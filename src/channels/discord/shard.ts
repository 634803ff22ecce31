// The gateway connection: one shard through @discordjs/ws (identify, heartbeat, resume, reconnect). The session
// (id, sequence, resume URL) is kept in the store, so a restarted process resumes and Discord replays what it
// missed instead of dropping it; the inbox removes the repeats. Close codes that retrying cannot fix (bad token,
// intents not enabled) are turned into errors that say what to do.
import { type SessionInfo, WebSocketManager, WebSocketShardEvents } from "@discordjs/ws";
import type { GatewayDispatchPayload } from "discord-api-types/v10";
import type { Logger } from "pino";
import type { Store } from "../../store/types.ts";
import type { DiscordClient } from "./client.ts";

/** GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT */
export const DISCORD_INTENTS = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

const SESSION_NS = "discord:session";

export function fatalCloseMessage(code: number, account: string): string | undefined {
  switch (code) {
    case 4004:
      return `Discord rejected the bot token of account "${account}" (close code 4004, authentication failed). Reset the token on the Developer Portal's Bot page and put the new one in OPENCLAW_CONNECTOR_DISCORD_TOKEN or channels.discord…token.`;
    case 4014:
      return `Discord refused the intents of account "${account}" (close code 4014, disallowed intents). In the Developer Portal open your application → Bot → Privileged Gateway Intents and enable MESSAGE CONTENT INTENT, then restart.`;
    case 4013:
      return `Discord refused the intents of account "${account}" (close code 4013, invalid intents).`;
    case 4010:
    case 4011:
      return `Discord requires sharding for account "${account}" (close code ${code}); clawgate runs one shard per bot.`;
    case 4012:
      return `Discord refused the gateway API version (close code 4012).`;
    default:
      return undefined;
  }
}

export interface ShardOptions {
  client: DiscordClient;
  token: string;
  appId: string;
  account: string;
  store: Store;
  log: Logger;
  onDispatch(payload: GatewayDispatchPayload): Promise<void> | void;
  onReady(): void;
  /** A close that reconnecting cannot fix; the shard stays down until restart. */
  onFatal(message: string): void;
}

/** Runs the shard until `signal` aborts (stop, or the lease moved to another replica). */
export async function runShard(o: ShardOptions, signal: AbortSignal): Promise<void> {
  const sessionKey = `${o.appId}:0`;
  const saved = await o.store.kvGet(SESSION_NS, sessionKey);
  let session: SessionInfo | null = saved ? (JSON.parse(saved) as SessionInfo) : null;
  let persistTimer: NodeJS.Timeout | undefined;
  const persist = () => {
    persistTimer = undefined;
    const write = session
      ? o.store.kvSet(SESSION_NS, sessionKey, JSON.stringify(session), 3_600_000)
      : o.store.kvDelete(SESSION_NS, sessionKey);
    write.catch((err: Error) => o.log.warn({ err: err.message }, "discord: saving the session failed"));
  };

  const manager = new WebSocketManager({
    token: o.token,
    intents: DISCORD_INTENTS,
    rest: o.client.rest,
    shardCount: 1,
    shardIds: [0],
    retrieveSessionInfo: () => session,
    updateSessionInfo: (_shardId, info) => {
      // Stopping clears the session inside @discordjs/ws; keep ours so the next start resumes.
      if (stopping) return;
      session = info;
      // Sequence numbers change with every event: save at most once a second (a resume from a slightly older
      // sequence only replays events the inbox already has).
      if (!info) {
        if (persistTimer) clearTimeout(persistTimer);
        persist();
      } else persistTimer ??= setTimeout(persist, 1000);
    },
  });

  let fatal: string | undefined;
  let stopping = false;
  const done = new Promise<void>((resolve) => {
    signal.addEventListener("abort", () => resolve(), { once: true });
    manager.on(WebSocketShardEvents.Closed, (code) => {
      const message = fatalCloseMessage(code, o.account);
      if (message && !fatal) {
        fatal = message;
        o.onFatal(message);
        resolve();
      } else if (!message)
        o.log.info({ account: o.account, code }, "discord: gateway connection closed; reconnecting");
    });
  });
  manager.on(WebSocketShardEvents.Ready, () => {
    o.log.info({ account: o.account }, "discord: gateway ready");
    o.onReady();
  });
  manager.on(WebSocketShardEvents.Resumed, () => {
    o.log.info({ account: o.account }, "discord: gateway session resumed");
    o.onReady();
  });
  manager.on(WebSocketShardEvents.Error, (err) =>
    o.log.warn({ account: o.account, err: err.message }, "discord: shard error"),
  );
  manager.on(WebSocketShardEvents.Dispatch, (payload) => {
    void Promise.resolve(o.onDispatch(payload)).catch((err: Error) =>
      o.log.error({ account: o.account, err: err.message }, "discord: handling an event failed"),
    );
  });

  // connect() resolves on READY/RESUMED and never on a fatal close, so it is not awaited on its own.
  manager.connect().catch((err: Error) => {
    o.log.error({ account: o.account, err: err.message }, "discord: connecting to the gateway failed");
    if (!fatal) {
      fatal = `cannot connect to the Discord gateway for account "${o.account}": ${err.message}`;
      o.onFatal(fatal);
    }
  });
  await done;
  stopping = true;
  if (persistTimer) {
    clearTimeout(persistTimer);
    persist();
  }
  // Closing with a code other than 1000/1001 keeps the session resumable on Discord's side: the next start
  // (here or on another replica) resumes and gets the events sent meanwhile.
  await Promise.resolve(manager.destroy({ code: 4200, reason: "clawgate stopping" })).catch(() => {});
  if (fatal && !signal.aborted) {
    // Hold on without reconnecting: retrying a bad token or a missing intent would only be refused again.
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
}
