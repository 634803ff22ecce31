// One ComfyUI server's native HTTP API. Every failure becomes a ComfyError whose message says what to fix;
// `unreachable` marks errors where another server in the pool may do better.

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

export interface HistoryEntry {
  outputs: Record<string, { images?: ImageRef[]; gifs?: ImageRef[] } & Record<string, unknown>>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
  prompt?: unknown[];
}

export interface QueueState {
  running: string[];
  pending: string[];
  /** extra_data of each queued or running prompt, by prompt id (clawgate marks its jobs there). */
  extra?: Record<string, Record<string, unknown>>;
}

export interface SystemStats {
  system?: { comfyui_version?: string; os?: string; ram_total?: number; ram_free?: number };
  devices?: { name?: string; type?: string; vram_total?: number; vram_free?: number }[];
}

export class ComfyError extends Error {
  readonly status?: number;
  /** Connection refused, timeout, 5xx: the server is not usable right now. */
  readonly unreachable: boolean;
  /**
   * The request may have reached the server although no answer came (a timeout, a connection cut after the
   * body was sent): for POST /prompt the job may be queued there.
   */
  readonly outcomeUnknown: boolean;
  readonly nodeErrors?: Record<string, unknown>;
  constructor(
    message: string,
    opts: {
      status?: number;
      unreachable?: boolean;
      outcomeUnknown?: boolean;
      nodeErrors?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.name = "ComfyError";
    this.status = opts.status;
    this.unreachable = opts.unreachable ?? false;
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
    this.nodeErrors = opts.nodeErrors;
  }
}

export class ComfyClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(url: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#headers = opts.headers ?? {};
  }

  /** The WebSocket URL for events addressed to `clientId`. */
  wsUrl(clientId: string): string {
    return `${this.url.replace(/^http/, "ws")}/ws?clientId=${encodeURIComponent(clientId)}`;
  }

  /**
   * POST /prompt. `promptId` is sent as the client-chosen prompt_id (ComfyUI since mid-2025 uses it; older
   * servers ignore it and answer with their own, which is what the result carries).
   */
  async submit(
    prompt: Record<string, unknown>,
    clientId: string,
    opts: { promptId?: string; extra?: Record<string, unknown> } = {},
  ) {
    const res = await this.#fetch(
      "POST",
      "/prompt",
      {
        prompt,
        client_id: clientId,
        ...(opts.promptId ? { prompt_id: opts.promptId } : {}),
        ...(opts.extra ? { extra_data: opts.extra } : {}),
      },
      [400],
    );
    const body = (await res.json().catch(() => ({}))) as {
      prompt_id?: string;
      number?: number;
      error?: { type?: string; message?: string; details?: string } | string;
      node_errors?: Record<
        string,
        { class_type?: string; errors?: { message?: string; details?: string }[] }
      >;
    };
    if (res.status === 400 || !body.prompt_id) {
      throw new ComfyError(
        `ComfyUI refused the workflow: ${describePromptError(body.error, body.node_errors)}`,
        {
          status: res.status,
          nodeErrors: body.node_errors,
        },
      );
    }
    return { promptId: body.prompt_id, number: body.number ?? 0 };
  }

  /** The history entry of one prompt, or undefined while it has none (queued, running, unknown). */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const body = (await (
      await this.#fetch("GET", `/history/${encodeURIComponent(promptId)}`)
    ).json()) as Record<string, HistoryEntry>;
    // The entry is nested under the prompt id: {"<id>": {outputs, status}}.
    return body?.[promptId];
  }

  async queue(): Promise<QueueState> {
    const body = (await (await this.#fetch("GET", "/queue")).json()) as {
      queue_running?: unknown[][];
      queue_pending?: unknown[][];
    };
    const ids = (rows: unknown[][] | undefined) => (rows ?? []).map((r) => String(r[1]));
    const extra: Record<string, Record<string, unknown>> = {};
    for (const r of [...(body.queue_running ?? []), ...(body.queue_pending ?? [])])
      if (r[3] && typeof r[3] === "object") extra[String(r[1])] = r[3] as Record<string, unknown>;
    return { running: ids(body.queue_running), pending: ids(body.queue_pending), extra };
  }

  /** The most recent history entries (GET /history?max_items=N), by prompt id. */
  async recentHistory(maxItems: number): Promise<Record<string, HistoryEntry>> {
    return (await (await this.#fetch("GET", `/history?max_items=${maxItems}`)).json()) as Record<
      string,
      HistoryEntry
    >;
  }

  async queueRemaining(): Promise<number> {
    const body = (await (await this.#fetch("GET", "/prompt")).json()) as {
      exec_info?: { queue_remaining?: number };
    };
    return Number(body.exec_info?.queue_remaining ?? 0);
  }

  async interrupt(promptId?: string) {
    await this.#fetch("POST", "/interrupt", promptId ? { prompt_id: promptId } : {});
  }

  async deleteQueued(promptIds: string[]) {
    await this.#fetch("POST", "/queue", { delete: promptIds });
  }

  /** GET /api/jobs (ComfyUI 0.6+); undefined when the server is older. */
  async jobs(): Promise<{ id: string; status: string }[] | undefined> {
    const res = await this.#fetch("GET", "/api/jobs", undefined, [404]);
    if (res.status === 404) return undefined;
    const body = (await res.json()) as { jobs?: { id: string; status: string }[] };
    return body.jobs ?? [];
  }

  async systemStats(): Promise<SystemStats> {
    return (await (await this.#fetch("GET", "/system_stats")).json()) as SystemStats;
  }

  async view(image: ImageRef, maxBytes: number): Promise<{ bytes: Buffer; mime: string }> {
    const q = new URLSearchParams({
      filename: image.filename,
      subfolder: image.subfolder ?? "",
      type: image.type ?? "output",
    });
    const res = await this.#fetch("GET", `/view?${q}`);
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > maxBytes * 4) {
      await res.body?.cancel();
      throw new ComfyError(`image ${image.filename} is ${declared} bytes, far over the limit`);
    }
    // Read with the same bound when no length was declared (chunked): stop as soon as it is exceeded.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > maxBytes * 4) {
        await res.body?.cancel().catch(() => {});
        throw new ComfyError(`image ${image.filename} is over ${maxBytes * 4} bytes, far over the limit`);
      }
      chunks.push(Buffer.from(chunk));
    }
    const bytes = Buffer.concat(chunks, size);
    return { bytes, mime: res.headers.get("content-type")?.split(";")[0] || mimeOf(image.filename) };
  }

  /**
   * POST /upload/image into the input folder. With overwrite=false ComfyUI keeps an existing file of that name
   * and answers with the name it chose ("x (1).png"), or the existing one when the bytes are the same.
   */
  async uploadImage(
    bytes: Buffer,
    filename: string,
    mime: string,
    subfolder: string,
  ): Promise<{ name: string; subfolder: string; type: string }> {
    const form = new FormData();
    form.append("image", new Blob([new Uint8Array(bytes)], { type: mime }), filename);
    form.append("type", "input");
    form.append("subfolder", subfolder);
    form.append("overwrite", "false");
    const res = await this.#fetch("POST", "/upload/image", form);
    const body = (await res.json().catch(() => ({}))) as {
      name?: unknown;
      subfolder?: unknown;
      type?: unknown;
    };
    if (typeof body.name !== "string" || !body.name)
      throw new ComfyError(`ComfyUI at ${this.url} took the photo but did not say its file name`);
    return {
      name: body.name,
      subfolder: typeof body.subfolder === "string" ? body.subfolder : "",
      type: typeof body.type === "string" ? body.type : "input",
    };
  }

  async #fetch(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<Response> {
    let res: Response;
    const form = body instanceof FormData;
    try {
      res = await fetch(this.url + path, {
        method,
        // fetch writes the multipart content type (with its boundary) for a FormData body itself.
        headers: {
          ...this.#headers,
          ...(body !== undefined && !form ? { "content-type": "application/json" } : {}),
        },
        body: form ? body : body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const timedOut = e.name === "TimeoutError";
      const why = timedOut ? `no answer within ${this.#timeoutMs / 1000} s` : (e.cause?.code ?? e.message);
      // Refused or unresolvable: nothing was sent. Anything else may have reached the server.
      const unsent = !timedOut && NOT_SENT.has(e.cause?.code ?? "");
      throw new ComfyError(
        timedOut
          ? `ComfyUI at ${this.url} did not answer within ${this.#timeoutMs / 1000} s`
          : `ComfyUI at ${this.url} is not reachable (${why}). Is it running?`,
        { unreachable: true, outcomeUnknown: method !== "GET" && !unsent },
      );
    }
    if (res.ok || okStatuses.includes(res.status)) return res;
    const text = (await res.text().catch(() => "")).slice(0, 200);
    throw new ComfyError(
      `ComfyUI at ${this.url} answered ${method} ${path.split("?")[0]} with HTTP ${res.status}${text ? `: ${text}` : ""}`,
      {
        status: res.status,
        unreachable: res.status >= 500,
      },
    );
  }
}

const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** "Prompt outputs failed validation — node 3 (KSampler): Value 0 smaller than min of 1 [steps, 0]". */
export function describePromptError(
  error: { type?: string; message?: string; details?: string } | string | undefined,
  nodeErrors:
    | Record<string, { class_type?: string; errors?: { message?: string; details?: string }[] }>
    | undefined,
): string {
  const head = typeof error === "string" ? error : joinMessage(error?.message, error?.details);
  const nodes = Object.entries(nodeErrors ?? {}).map(([id, n]) => {
    const msgs = (n.errors ?? []).map((e) => `${e.message}${e.details ? ` [${e.details}]` : ""}`).join("; ");
    return `node ${id} (${n.class_type ?? "?"}): ${msgs}`;
  });
  return nodes.length ? `${head} — ${nodes.join(" | ")}` : head;
}

/** "Cannot execute because node X does not exist. (Node ID '#5')": a sentence keeps its full stop. */
export function joinMessage(message: string | undefined, details: string | undefined): string {
  const m = message?.trim();
  const d = details?.trim();
  if (!m) return d || "unknown error";
  if (!d) return m;
  return /[.!?]$/.test(m) ? `${m} (${d})` : `${m}: ${d}`;
}

export function mimeOf(filename: string): string {
  const ext = filename.toLowerCase().split(".").pop();
  return ext === "jpg" || ext === "jpeg"
    ? "image/jpeg"
    : ext === "webp"
      ? "image/webp"
      : ext === "gif"
        ? "image/gif"
        : "image/png";
}
