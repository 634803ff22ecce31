// Who is calling the web chat and which threads they may use. Three kinds of caller:
// - the operator: a loopback caller no proxy relayed, or the web chat token (webchat.token,
//   CLAWGATE_WEBCHAT_TOKEN, or its alias CLAWCHATS_AUTH_TOKEN); every thread;
// - a paired device holding the `chat` scope, by its chat token `<deviceId>.<token>` (src/pairing/chat-token.ts):
//   its own threads (ids `<deviceId>-…`) and the threads the operator shared;
// - anyone else: refused before a byte of the body is read.
// The token comes in `Authorization: Bearer …`, or — for browsers' WebSockets, which cannot set headers — as the
// subprotocol `bearer.<token>` next to `clawgate.v1` (never in the query string, which proxies log).
import type { IncomingMessage } from "node:http";
import { bearerToken, isLocalRequest, safeEqual } from "../../http/respond.ts";
import type { Authorization, Authorize } from "../../http/router.ts";
import { parseChatToken } from "../../pairing/chat-token.ts";
import type { DeviceRegistry } from "../../pairing/devices.ts";
import { FailureLimiter } from "../../security/failure-limiter.ts";
import type { KvStore } from "../../store/facets.ts";

export type ChatCaller =
  | { kind: "operator" }
  | { kind: "device"; deviceId: string; tokenId: string; name: string };

export const OPERATOR: ChatCaller = { kind: "operator" };
export const WS_PROTOCOL = "clawgate.v1";
const PROTOCOL_TOKEN = "bearer.";

/** The token a WebSocket client offered as a subprotocol `bearer.<token>`. */
export function protocolToken(req: IncomingMessage): string | undefined {
  const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",");
  const t = offered.map((p) => p.trim()).find((p) => p.startsWith(PROTOCOL_TOKEN));
  return t ? t.slice(PROTOCOL_TOKEN.length) || undefined : undefined;
}

/**
 * The API's `authorize` step, decided from the headers alone. Wrong tokens are counted per address: after 10 in
 * a minute that address is refused (429) until the window passes, a right token too. A missing token is not a
 * guess and is not counted (a page opened without its #token makes a few such calls). A device token is taken
 * as the caller's identity even from loopback, so a device's page on the gateway's own machine stays that device.
 */
export function chatAuthorizer(token: string | undefined, devices: DeviceRegistry): Authorize {
  const failures = new FailureLimiter(10, 60_000);
  return async (req): Promise<Authorization> => {
    const presented = bearerToken(req) ?? protocolToken(req);
    const device = presented ? parseChatToken(presented) : undefined;
    if (!device && isLocalRequest(req)) return { ok: true, caller: OPERATOR };
    const ip = req.socket.remoteAddress ?? "unknown";
    const blocked = failures.refusal(ip, "wrong web chat tokens from this address");
    if (blocked) return blocked;
    if (device) {
      const v = await devices.verify(device.deviceId, device.token);
      if (!v.ok) {
        failures.fail(ip);
        const why =
          v.reason === "revoked" ? "was revoked" : v.reason === "expired" ? "has expired" : "is wrong";
        return { ok: false, status: 401, error: `this device's chat token ${why}: pair the device again` };
      }
      if (!v.device.scopes.includes("chat"))
        return {
          ok: false,
          status: 403,
          error: `device ${v.device.id} lacks the chat scope: approve it with scopes=chat (or pair it again)`,
        };
      return {
        ok: true,
        caller: { kind: "device", deviceId: v.device.id, tokenId: v.tokenId, name: v.device.name },
      };
    }
    return operatorToken(token, presented, failures, ip);
  };
}

/**
 * The web chat token's check, the last step of both authorizers: the operator, or 401 with what to do. A wrong
 * token counts as a failed attempt from this address; a missing one is not a guess.
 */
function operatorToken(
  token: string | undefined,
  presented: string | undefined,
  failures: FailureLimiter,
  ip: string,
): Authorization {
  if (token && presented && safeEqual(presented, token)) return { ok: true, caller: OPERATOR };
  if (presented) failures.fail(ip);
  return {
    ok: false,
    status: 401,
    error: token
      ? "web chat token required: send Authorization: Bearer <webchat.token>"
      : "the web chat is loopback-only until webchat.token (CLAWGATE_WEBCHAT_TOKEN) is set",
  };
}

/**
 * The operator's `authorize` step (workspaces, src/workspaces/http.ts: not open to paired devices yet): loopback
 * callers no proxy relayed, or the web chat token; decided before any body is
 * read. Wrong tokens are counted per address: after 10 in a minute that address is refused (429) until the
 * window passes, a right token too. A missing token is not a guess and is not counted (a page opened without
 * its #token makes a few such calls).
 */
export function operatorAuthorizer(token: string | undefined): Authorize {
  const failures = new FailureLimiter(10, 60_000);
  return (req) => {
    if (isLocalRequest(req)) return { ok: true, caller: OPERATOR };
    const ip = req.socket.remoteAddress ?? "unknown";
    const blocked = failures.refusal(ip, "wrong web chat tokens from this address");
    if (blocked) return blocked;
    return operatorToken(token, bearerToken(req) ?? undefined, failures, ip);
  };
}

/** What the router hands a handler as `caller`; a route without the authorizer counts as the operator. */
export function callerOf(caller: unknown): ChatCaller {
  return (caller as ChatCaller | undefined) ?? OPERATOR;
}

const DEVICE_THREAD = /^dev_[a-z0-9]+-/;
const NS_SHARED = "webchat:shared";

/** Threads the operator shared with every chat device (kept in the store's kv). */
export class SharedThreads {
  readonly #kv: KvStore;
  constructor(kv: KvStore) {
    this.#kv = kv;
  }
  async isShared(thread: string) {
    return (await this.#kv.kvGet(NS_SHARED, thread)) !== undefined;
  }
  async set(thread: string, shared: boolean) {
    if (shared) await this.#kv.kvSet(NS_SHARED, thread, "1");
    else await this.#kv.kvDelete(NS_SHARED, thread);
  }
  async all(): Promise<Set<string>> {
    return new Set((await this.#kv.kvList(NS_SHARED, { limit: 10_000 })).map((r) => r.key));
  }
}

/** The id of a new thread for this caller: a device's threads carry its id. */
export function newThreadId(caller: ChatCaller, random: string): string {
  return caller.kind === "device" ? `${caller.deviceId}-${random}` : random;
}

/** Whether the caller owns the thread (a device: its own prefix; the operator: everything). */
export function owns(caller: ChatCaller, thread: string): boolean {
  return caller.kind === "operator" || thread.startsWith(`${caller.deviceId}-`);
}

/** Whether a thread shows in the caller's list: the operator's own threads, or a device's own and shared ones. */
export function listed(caller: ChatCaller, thread: string, shared: Set<string>): boolean {
  if (caller.kind === "operator") return !DEVICE_THREAD.test(thread);
  return owns(caller, thread) || shared.has(thread);
}

/** Whether the caller may read and write the thread (404 otherwise: another device's thread is not disclosed). */
export async function mayUse(caller: ChatCaller, thread: string, shared: SharedThreads): Promise<boolean> {
  return owns(caller, thread) || (await shared.isShared(thread));
}
