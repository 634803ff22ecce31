// Brute-force guard for unauthenticated entry points: counts failed attempts per client address in a sliding
// window, and once the limit is reached refuses every attempt from that address — correct ones too — until
// the window has passed, so a guesser cannot tell a right guess from a wrong one while blocked.
//
// An IPv6 client is counted per /64: one subscriber's network holds 2^64 addresses, so counting each address
// alone would limit nothing. IPv4-mapped IPv6 (::ffff:192.0.2.1) counts as the IPv4 address. The table is
// bounded: past MAX_KEYS addresses the stale ones go, then the oldest.
import { isIP } from "node:net";
import type { Refusal } from "../http/router.ts";

export const MAX_KEYS = 10_000;

export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly limit: number;
  readonly windowMs: number;

  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Milliseconds until `address` may try again; 0 when it is not blocked. */
  blockedForMs(address: string, now = Date.now()): number {
    const hits = this.#live(addressKey(address), now);
    return hits.length >= this.limit ? hits[0]! + this.windowMs - now : 0;
  }

  /** The 429 answer for a blocked address ("too many <what>; wait and try again"), or undefined. */
  refusal(address: string, what: string, now = Date.now()): Refusal | undefined {
    const blocked = this.blockedForMs(address, now);
    if (blocked <= 0) return undefined;
    return {
      ok: false,
      status: 429,
      error: `too many ${what}; wait and try again`,
      headers: { "retry-after": retryAfterSec(blocked) },
    };
  }

  fail(address: string, now = Date.now()) {
    const key = addressKey(address);
    const hits = this.#live(key, now);
    hits.push(now);
    this.#failures.set(key, hits);
    if (this.#failures.size > MAX_KEYS) {
      for (const [k, h] of this.#failures)
        if (h.every((t) => t <= now - this.windowMs)) this.#failures.delete(k);
      for (const k of this.#failures.keys()) {
        if (this.#failures.size <= MAX_KEYS) break;
        this.#failures.delete(k);
      }
    }
  }

  /** Addresses (or /64 networks) currently counted. */
  get size(): number {
    return this.#failures.size;
  }

  #live(key: string, now: number): number[] {
    const hits = (this.#failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (hits.length) this.#failures.set(key, hits);
    else this.#failures.delete(key);
    return hits;
  }
}

/** What a client is counted as: its IPv4 address, or its IPv6 /64 network. Anything else as it is. */
export function addressKey(address: string): string {
  const a = address.replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (isIP(a) !== 6) return address;
  let groups: string[];
  if (a.includes("::")) {
    const [head = "", tail = ""] = a.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    // An embedded IPv4 tail (::1.2.3.4) fills two groups.
    const filled = h.length + t.length + (t.at(-1)?.includes(".") ? 1 : 0);
    groups = [...h, ...Array<string>(8 - filled).fill("0"), ...t];
  } else groups = a.split(":");
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** Seconds for a Retry-After header (at least 1). */
export function retryAfterSec(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
