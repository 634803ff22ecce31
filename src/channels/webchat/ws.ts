// The web chat over one WebSocket (GET /api/ws): the live events of any number of threads, and sends. The HTTP
// server (src/http/server.ts) applies the same boundary as the other web chat routes — Host, Origin, the token
// (access.ts), per-address failure limiting — before the upgrade is answered; nothing here runs for a caller
// that was refused.
//
// Client frames (JSON text): {type:"subscribe", thread}, {type:"unsubscribe", thread},
// {type:"send", thread, text, clientMessageId?, attachments?}. Server frames: the SSE events (frames.ts) with
// `thread` added, {type:"ack", of, thread, …} and {type:"error", error, status?, …}. A frame over the size limit
// closes the socket with 1009; a revoked device's socket is closed with 4401.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { readJsonObject } from "../../http/json-body.ts";
import { sendError } from "../../http/respond.ts";
import type { Handler } from "../../http/router.ts";
import type { UpgradeContext, UpgradeHandler } from "../../http/server.ts";
import type { WebhookRoute } from "../types.ts";
import { type ChatCaller, callerOf, mayUse, type SharedThreads, WS_PROTOCOL } from "./access.ts";
import type { LiveHub, LiveOwner, LiveSink } from "./live-hub.ts";
import { type SendDeps, sendMessage } from "./send.ts";
import { messageBodyLimit } from "./uploads.ts";

/** Threads one socket may follow at once. */
export const MAX_SUBSCRIPTIONS = 32;
/** Bytes queued on a socket past which previews are held back (as SSE does while its socket is full). */
const HIGH_WATER = 1024 * 1024;
export const CLOSE_REVOKED = 4401;

/** The open sockets, so a revoked device's are closed at once and stopping the gateway closes them all. */
export class WsSessions {
  readonly #open = new Map<WebSocket, LiveOwner | undefined>();

  add(ws: WebSocket, owner: LiveOwner | undefined) {
    this.#open.set(ws, owner);
    ws.on("close", () => this.#open.delete(ws));
  }

  endOwner(deviceId: string, tokenId?: string) {
    for (const [ws, owner] of this.#open)
      if (owner?.deviceId === deviceId && (!tokenId || owner.tokenId === tokenId))
        ws.close(CLOSE_REVOKED, "this device was revoked: pair it again");
  }

  /** The device tokens holding sockets open, each once. */
  owners(): LiveOwner[] {
    const seen = new Map<string, LiveOwner>();
    for (const o of this.#open.values()) if (o) seen.set(o.tokenId, o);
    return [...seen.values()];
  }

  closeAll() {
    for (const ws of this.#open.keys()) ws.close(1001, "the gateway is stopping");
  }
}

export interface WsDeps {
  send: SendDeps;
  hub: LiveHub;
  shared: SharedThreads;
  sockets: WsSessions;
  guard: (h: Handler) => Handler;
  threadId: RegExp;
}

/** GET /api/ws: a plain GET is told to upgrade (426); an upgrade that passed the boundary becomes a session. */
export function wsRoute(deps: WsDeps): WebhookRoute {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: messageBodyLimit(deps.send.ctx.config.media.inbound),
    // The token may ride in the offered subprotocols; only the fixed protocol name is ever echoed back.
    handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const handler = deps.guard((_req, res) => {
    res.setHeader("upgrade", "websocket");
    sendError(res, 426, "open this as a WebSocket (Upgrade: websocket)");
  }) as Handler & { upgrade?: UpgradeHandler };
  handler.upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, c: UpgradeContext) => {
    server.handleUpgrade(req, socket, head, (ws) => session(deps, ws, callerOf(c.caller)));
  };
  return {
    method: "GET",
    path: "/api/ws",
    kind: "webchat",
    handler,
    doc: {
      summary:
        "WebSocket (Upgrade: websocket; token as Authorization: Bearer or subprotocols clawgate.v1 + bearer.<token>): the events of subscribed threads and sends",
      response: { status: 101 },
    },
  };
}

type Json = Record<string, unknown>;

function session(deps: WsDeps, ws: WebSocket, caller: ChatCaller) {
  const owner = caller.kind === "device" ? { deviceId: caller.deviceId, tokenId: caller.tokenId } : undefined;
  deps.sockets.add(ws, owner);
  const subs = new Map<string, { drained: () => void; detach: () => void }>();
  const reply = (frame: Json) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  ws.on("close", () => {
    for (const s of subs.values()) s.detach();
    subs.clear();
  });
  ws.on("error", () => ws.terminate());
  ws.on("message", (data, isBinary) => {
    if (isBinary) return reply({ type: "error", error: "send JSON text frames, not binary" });
    const frame = readJsonObject(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    if (!frame || typeof frame.type !== "string")
      return reply({
        type: "error",
        error: 'each frame must be a JSON object with a "type", e.g. {"type":"subscribe","thread":"…"}',
      });
    handle(deps, caller, frame, subs, ws, reply).catch((err: Error) => {
      deps.send.ctx.log.error({ err: err.message }, "web chat WebSocket frame failed");
      reply({ type: "error", status: 500, error: "internal error; see the gateway log" });
    });
  });
}

async function handle(
  deps: WsDeps,
  caller: ChatCaller,
  frame: Json,
  subs: Map<string, { drained: () => void; detach: () => void }>,
  ws: WebSocket,
  reply: (f: Json) => void,
) {
  const thread = typeof frame.thread === "string" ? frame.thread : "";
  const refuse = (status: number, error: string) =>
    reply({ type: "error", status, error, of: frame.type, thread, ...clientId(frame) });
  if (!["subscribe", "unsubscribe", "send"].includes(frame.type as string))
    return refuse(
      400,
      `unknown frame type ${JSON.stringify(String(frame.type).slice(0, 40))}: use subscribe, unsubscribe or send`,
    );
  if (!deps.threadId.test(thread)) return refuse(400, "thread must be 1-64 of A-Z a-z 0-9 _ -");
  if (frame.type === "unsubscribe") {
    subs.get(thread)?.detach();
    subs.delete(thread);
    return reply({ type: "ack", of: "unsubscribe", thread });
  }
  if (!(await mayUse(caller, thread, deps.shared))) return refuse(404, `no thread ${thread} for this device`);
  if (frame.type === "subscribe") {
    if (!subs.has(thread)) {
      if (subs.size >= MAX_SUBSCRIPTIONS)
        return refuse(
          429,
          `a socket follows at most ${MAX_SUBSCRIPTIONS} threads: unsubscribe from one first`,
        );
      const owner = caller.kind === "device" ? caller : undefined;
      const handle = deps.hub.attach(
        thread,
        socketSink(ws, thread, () => handle.drained()),
        owner,
      );
      subs.set(thread, handle);
    }
    return reply({ type: "ack", of: "subscribe", thread });
  }
  const r = await sendMessage(deps.send, thread, frame, caller);
  if (!r.ok) return refuse(r.status, r.error);
  reply({ type: "ack", of: "send", thread, eventId: r.eventId, duplicate: r.duplicate, ...clientId(frame) });
}

function clientId(frame: Json) {
  return typeof frame.clientMessageId === "string"
    ? { clientMessageId: frame.clientMessageId.slice(0, 64) }
    : {};
}

/** One thread's events on a socket: the SSE payloads with `thread` added. */
function socketSink(ws: WebSocket, thread: string, drained: () => void): LiveSink {
  let waiting = false;
  const sent = () => {
    if (waiting && ws.bufferedAmount < HIGH_WATER / 2) {
      waiting = false;
      drained();
    }
  };
  return {
    write(event) {
      if (ws.readyState !== ws.OPEN) return true;
      ws.send(JSON.stringify({ ...event, thread }), sent);
      if (ws.bufferedAmount > HIGH_WATER) waiting = true;
      return !waiting;
    },
    heartbeat: () => {
      if (ws.readyState === ws.OPEN) ws.ping();
    },
    get buffered() {
      return ws.bufferedAmount;
    },
    get closed() {
      return ws.readyState !== ws.OPEN;
    },
    end: (why) =>
      why === "revoked"
        ? ws.close(CLOSE_REVOKED, "this device was revoked: pair it again")
        : ws.close(1001, "the gateway is stopping"),
    destroy: () => ws.terminate(),
  };
}
