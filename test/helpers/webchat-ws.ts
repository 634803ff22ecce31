// A small WebSocket client for the web chat's /api/ws (test/channels/webchat-ws*.test.ts, the browser tests).
import { WebSocket } from "ws";

type Frame = { type: string; [k: string]: unknown };

/** A connected socket that collects frames; `next(pred)` resolves with the first frame matching it. */
export class WsClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as Frame;
      this.frames.push(f);
      const hit = this.#waiters.filter((w) => w.pred(f));
      this.#waiters = this.#waiters.filter((w) => !hit.includes(w));
      for (const w of hit) w.resolve(f);
    });
    this.closed = new Promise((r) => ws.on("close", (code, reason) => r({ code, reason: String(reason) })));
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  next(pred: (f: Frame) => boolean): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
}

/** Opens a socket; resolves with the client once open, or with the HTTP status the upgrade was refused with. */
export function openWs(
  url: string,
  opts: { headers?: Record<string, string>; protocols?: string[]; origin?: string } = {},
): Promise<WsClient | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/ws`, opts.protocols ?? [], {
      headers: opts.headers,
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    ws.once("open", () => resolve(new WsClient(ws)));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", (err) => {
      if (!String(err.message).includes("Unexpected server response")) reject(err);
    });
  });
}

export function opened(r: WsClient | { status: number; body: string }): WsClient {
  if (!(r instanceof WsClient)) throw new Error(`upgrade refused: ${r.status} ${r.body}`);
  return r;
}
