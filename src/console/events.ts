// GET /admin/api/events: the console's live feed over Server-Sent Events. `event: status` carries what
// /admin/api/status answers plus `rates` (inbound messages per channel in the last minute), sent on connect and
// then every tick when it changed; `event: audit` carries each new audit entry (this process's at once, other
// replicas' at the next tick); a comment line every 15 s keeps proxies from closing an idle stream. One timer
// serves every open stream, and runs only while one is open.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEntry } from "../http/admin-routes.ts";
import type { Store } from "../store/types.ts";
import type { AuditLog } from "./audit.ts";

export interface EventsOptions {
  status(): Promise<Record<string, unknown>>;
  store: Pick<Store, "listInbound">;
  audit: AuditLog;
  intervalMs?: number;
  heartbeatMs?: number;
}

/** Inbound items counted for the rates; beyond this many in a minute the rate reads as at least this. */
const RATE_SAMPLE = 500;

export class ConsoleEvents {
  readonly #o: EventsOptions;
  readonly #clients = new Set<ServerResponse>();
  readonly #seen = new Set<string>();
  #lastStatus = "";
  #since = 0;
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;
  #ticking = false;

  constructor(o: EventsOptions) {
    this.#o = o;
  }

  /** The route handler: holds the response open as an event stream until the client goes. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    const status = await this.#statusJson();
    res.write(frame("status", status));
    this.#clients.add(res);
    if (this.#clients.size === 1) this.#start(status);
    const gone = () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stop();
    };
    req.once("close", gone);
    res.once("close", gone);
  };

  /** Ends every stream (the gateway is stopping). */
  close() {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#stop();
  }

  #start(status: string) {
    this.#lastStatus = withoutUptime(status);
    this.#since = Date.now();
    this.#unsubscribe = this.#o.audit.subscribe((e) => this.#sendAudit(e));
    const tick = setInterval(() => void this.#tick(), this.#o.intervalMs ?? 2000);
    const beat = setInterval(() => this.#broadcast(": ping\n\n"), this.#o.heartbeatMs ?? 15_000);
    tick.unref();
    beat.unref();
    this.#timers = [tick, beat];
  }

  #stop() {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#seen.clear();
  }

  async #tick() {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const status = await this.#statusJson();
      const key = withoutUptime(status);
      if (key !== this.#lastStatus) {
        this.#lastStatus = key;
        this.#broadcast(frame("status", status));
      }
      // Entries other replicas recorded since the first stream opened, oldest first.
      const fresh = (await this.#o.audit.list(20)).filter(
        (e) => e.at >= this.#since && !this.#seen.has(e.id),
      );
      for (const e of fresh.reverse()) this.#sendAudit(e);
    } catch {
      // A store hiccup skips one tick; the next one tries again.
    } finally {
      this.#ticking = false;
    }
  }

  #sendAudit(e: AuditEntry) {
    if (this.#seen.has(e.id)) return;
    this.#seen.add(e.id);
    if (this.#seen.size > 1000) this.#seen.delete(this.#seen.values().next().value!);
    this.#broadcast(frame("audit", JSON.stringify(e)));
  }

  #broadcast(text: string) {
    for (const res of this.#clients) res.write(text);
  }

  async #statusJson(): Promise<string> {
    const [status, rates] = await Promise.all([this.#o.status(), this.#rates()]);
    return JSON.stringify({ ...status, rates });
  }

  /** Inbound messages per channel received in the last minute (from the shared inbox: every replica's). */
  async #rates(): Promise<Record<string, number>> {
    const since = Date.now() - 60_000;
    const rates: Record<string, number> = {};
    for (const item of await this.#o.store.listInbound({ limit: RATE_SAMPLE })) {
      if (item.receivedAt < since) break;
      const channel = item.id.slice(0, item.id.indexOf(":"));
      rates[channel] = (rates[channel] ?? 0) + 1;
    }
    return rates;
  }
}

const frame = (event: string, json: string) => `event: ${event}\ndata: ${json}\n\n`;
const withoutUptime = (json: string) => json.replace(/"uptimeSec":\d+,?/, "");
