// HTTP calls to the ComfyUI-OpenClaw extension with its admin token, and the loose shapes of its answers.
// Every refusal becomes a ComfyError whose message tells the user what to fix (token, route, server).
import { ComfyError } from "./client.ts";
import { describe404 } from "./openclaw-rules.ts";
import type { ServerState } from "./pool.ts";

export class OpenClawClient {
  readonly #server: ServerState;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(server: ServerState, token: string | undefined, timeoutMs: number) {
    this.#server = server;
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  get server() {
    return this.#server;
  }

  /** `object` names what the path is about ("template \"x\""), for a 404 of a route that exists. */
  async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    object?: string,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = this.#server.client.url + path;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...(this.#token ? { "X-OpenClaw-Admin-Token": this.#token } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new ComfyError(
        `ComfyUI-OpenClaw at ${this.#server.client.url} is not reachable (${(err as Error).message}). Is ComfyUI running?`,
        {
          unreachable: true,
        },
      );
    }
    const text = await res.text().catch(() => "");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const isObject = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
    const json = (isObject ? parsed : {}) as Record<string, unknown>;
    if (res.status === 403) {
      throw new ComfyError(
        this.#token
          ? "HTTP 403 (Admin Token): ComfyUI-OpenClaw rejected the admin token. Set OPENCLAW_CONNECTOR_ADMIN_TOKEN to the same value as the server's OPENCLAW_ADMIN_TOKEN."
          : "HTTP 403 (Admin Token): ComfyUI-OpenClaw requires an admin token. Set OPENCLAW_CONNECTOR_ADMIN_TOKEN to the server's OPENCLAW_ADMIN_TOKEN.",
        { status: 403 },
      );
    }
    if (res.status === 404)
      throw new ComfyError(
        describe404(isObject ? json : undefined, { path, server: this.#server.client.url, object }),
        { status: 404 },
      );
    if (!res.ok && res.status !== 202)
      throw new ComfyError(
        `ComfyUI-OpenClaw answered ${method} ${path} with HTTP ${res.status}: ${String(json.error ?? json.message ?? "")}`,
        {
          status: res.status,
          unreachable: res.status >= 500,
        },
      );
    return { status: res.status, json };
  }
}

/** Items of whatever list a response carries ({jobs:[…]}, {approvals:[…]}, or a bare array). */
export function itemsOf(json: unknown, key: string): Record<string, unknown>[] {
  if (Array.isArray(json)) return json as Record<string, unknown>[];
  const o = json as Record<string, unknown>;
  const v = o?.[key] ?? o?.items ?? o?.data;
  if (Array.isArray(v)) return v as Record<string, unknown>[];
  if (v && typeof v === "object") return Object.entries(v).map(([id, x]) => ({ id, ...(x as object) }));
  return [];
}

export const first = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== "") return String(o[k]);
  return undefined;
};
