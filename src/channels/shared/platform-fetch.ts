// Calls a platform's HTTP API and maps failures onto what the outbox understands: 429 → RateLimitedError with
// the platform's Retry-After, 5xx and network errors → retry with backoff, other 4xx → PermanentDeliveryError.
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";

export interface PlatformFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; URLSearchParams as a form; FormData as multipart; strings/Buffers as is. */
  body?: unknown;
  timeoutMs?: number;
  /** Aborts the request early (a long poll stopped on shutdown). */
  signal?: AbortSignal;
  /** Reads a platform-specific retry-after (seconds) out of a 429 body (Telegram's parameters.retry_after). */
  retryAfterFromBody?: (body: unknown) => number | undefined;
  /** Name used in error messages: "Slack chat.postMessage". */
  what: string;
}

export interface PlatformResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export class PlatformError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.name = "PlatformError";
    this.status = status;
    this.body = body;
  }
}

/** A 4xx other than 429: the status and parsed body, for callers that must tell one refusal from another. */
export class PlatformClientError extends PermanentDeliveryError {
  readonly status: number;
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.name = "PlatformClientError";
    this.status = status;
    this.body = body;
  }
}

export function retryAfterMs(
  headers: Headers,
  body: unknown,
  fromBody?: (b: unknown) => number | undefined,
): number {
  const fromPayload = fromBody?.(body);
  if (fromPayload !== undefined && Number.isFinite(fromPayload)) return Math.max(0, fromPayload * 1000);
  const h = headers.get("retry-after");
  if (h) {
    const secs = Number(h);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const date = Date.parse(h);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  return 1000;
}

export async function platformFetch<T = unknown>(
  url: string,
  o: PlatformFetchOptions,
): Promise<PlatformResponse<T>> {
  const headers: Record<string, string> = { ...o.headers };
  let body: BodyInit | undefined;
  if (o.body instanceof URLSearchParams || o.body instanceof FormData || typeof o.body === "string") {
    body = o.body;
  } else if (o.body instanceof Uint8Array) {
    body = new Uint8Array(o.body);
  } else if (o.body !== undefined) {
    headers["content-type"] ??= "application/json; charset=utf-8";
    body = JSON.stringify(o.body);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: o.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      signal: o.signal
        ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs ?? 30_000)])
        : AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new Error(`${o.what}: network error (${(err as Error).message})`, { cause: err });
  }
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json") || /^[[{]/.test(text)) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
  }
  if (res.status === 429) {
    throw new RateLimitedError(
      retryAfterMs(res.headers, parsed, o.retryAfterFromBody),
      `${o.what}: HTTP 429 rate limited`,
    );
  }
  if (res.status >= 500) {
    throw new PlatformError(`${o.what}: HTTP ${res.status} ${summarize(parsed)}`, res.status, parsed);
  }
  if (res.status >= 400) {
    throw new PlatformClientError(`${o.what}: HTTP ${res.status} ${summarize(parsed)}`, res.status, parsed);
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

function summarize(body: unknown): string {
  const s = typeof body === "string" ? body : JSON.stringify(body);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
