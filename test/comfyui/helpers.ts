// Shared set-up for the ComfyUI end-to-end tests: a gateway with the ComfyUI extension pointed at fake
// servers, and a web chat thread to talk to it like a user (POST messages, read them back, watch the SSE).
import { cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { comfyuiExtension } from "../../src/targets/comfyui/extension.ts";
import { startTestGateway, type TestGateway, tempDir, waitFor } from "../helpers/gateway.ts";

export const EXAMPLES = resolve(import.meta.dirname, "../../examples/templates");

export interface ComfyGateway extends TestGateway {
  ext: ReturnType<typeof comfyuiExtension>;
}

export async function startComfyGateway(opts: {
  servers: string[];
  dir?: string;
  comfyui?: Record<string, unknown>;
  env?: Record<string, string>;
  config?: Record<string, unknown>;
}): Promise<ComfyGateway> {
  const dir = opts.dir ?? tempDir("clawgate-comfy-");
  const templatesDir = join(dir, "templates");
  cpSync(EXAMPLES, templatesDir, { recursive: true });
  const ext = comfyuiExtension();
  const gw = await startTestGateway({
    dir,
    env: opts.env,
    extensions: [ext],
    config: {
      policy: { adminUsers: ["local"], rateLimits: { perUserPerMinute: 1000, perChannelPerMinute: 1000 } },
      ...opts.config,
      comfyui: {
        servers: opts.servers,
        templatesDir,
        healthIntervalMs: 200,
        reconcileIntervalMs: 300,
        progressIntervalMs: 0,
        requestTimeoutMs: 2000,
        approvals: { sweepIntervalMs: 100 },
        schedules: { tickMs: 100 },
        ...opts.comfyui,
      },
    },
  });
  return { ...gw, ext };
}

export interface SseEvent {
  type: string;
  data: Record<string, unknown>;
}

/** A web chat thread: send as a user, read the stored messages, and collect the live (SSE) events. */
export class Thread {
  readonly events: SseEvent[] = [];
  readonly #base: string;
  readonly #abort = new AbortController();
  #n = 0;

  constructor(url: string, id: string) {
    this.#base = `${url}/api/threads/${id}`;
  }

  static async open(url: string, id: string): Promise<Thread> {
    const t = new Thread(url, id);
    await t.#subscribe();
    return t;
  }

  async #subscribe() {
    const res = await fetch(`${this.#base}/events`, { signal: this.#abort.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          let i = buf.indexOf("\n\n");
          while (i !== -1) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const type = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (type && data) this.events.push({ type, data: JSON.parse(data) });
            i = buf.indexOf("\n\n");
          }
        }
      } catch {
        // closed
      }
    })();
  }

  close() {
    this.#abort.abort();
  }

  /** `attachments`: files sent with the message, as the page sends them ({name, mime, dataBase64}). */
  async send(
    text: string,
    userId = "local",
    attachments?: { name: string; mime: string; dataBase64: string }[],
  ) {
    const res = await fetch(`${this.#base}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        text,
        userId,
        userName: userId,
        clientMessageId: `m${Date.now()}${this.#n++}xx`,
        ...(attachments ? { attachments } : {}),
      }),
    });
    if (res.status !== 202) throw new Error(`send failed: ${res.status} ${await res.text()}`);
  }

  async press(value: string) {
    const res = await fetch(`${this.#base}/actions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value }),
    });
    if (res.status !== 202) throw new Error(`press failed: ${res.status}`);
  }

  async messages(): Promise<{ role: string; content: string }[]> {
    const res = await fetch(`${this.#base}/messages`);
    return ((await res.json()) as { messages: { role: string; content: string }[] }).messages;
  }

  /** Waits for a gateway message (not the user's own) matching `re`; returns its text. */
  async waitFor(re: RegExp, timeoutMs = 8000): Promise<string> {
    return waitFor(
      async () =>
        (await this.messages()).find((m) => m.role !== "command" && m.role !== "user" && re.test(m.content))
          ?.content,
      timeoutMs,
      `a message matching ${re}`,
    );
  }

  async count(re: RegExp): Promise<number> {
    return (await this.messages()).filter(
      (m) => m.role !== "command" && m.role !== "user" && re.test(m.content),
    ).length;
  }

  /** Waits for a live reply event matching `re` (carries buttons and media). */
  async waitForReply(re: RegExp, timeoutMs = 8000): Promise<SseEvent> {
    return waitFor(
      () => this.events.find((e) => e.type === "reply" && re.test(String(e.data.text))),
      timeoutMs,
      `a live reply matching ${re}`,
    );
  }
}
