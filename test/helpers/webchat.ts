// A small client for the web chat API, used by end-to-end tests of the pipeline.
import { randomUUID } from "node:crypto";

export interface WebchatMessage {
  id: number;
  role: string;
  content: string;
  eventId: string | null;
}

export class WebchatClient {
  readonly base: string;
  readonly headers: Record<string, string>;
  constructor(base: string, token?: string) {
    this.base = base;
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async createThread(title?: string): Promise<string> {
    const res = await fetch(`${this.base}/api/threads`, {
      method: "POST",
      headers: { ...this.headers, "content-type": "application/json" },
      body: JSON.stringify({ title }),
    });
    if (res.status !== 201) throw new Error(`create thread: HTTP ${res.status}`);
    return ((await res.json()) as { id: string }).id;
  }

  async send(thread: string, text: string, clientMessageId = randomUUID().replace(/-/g, "")) {
    const res = await fetch(`${this.base}/api/threads/${thread}/messages`, {
      method: "POST",
      headers: { ...this.headers, "content-type": "application/json" },
      body: JSON.stringify({ text, clientMessageId }),
    });
    const body = (await res.json()) as { eventId: string; duplicate: boolean; error?: string };
    return { status: res.status, ...body };
  }

  async messages(thread: string): Promise<{ messages: WebchatMessage[]; pending: { eventId: string }[] }> {
    const res = await fetch(`${this.base}/api/threads/${thread}/messages`, { headers: this.headers });
    if (!res.ok) throw new Error(`messages: HTTP ${res.status}`);
    return (await res.json()) as { messages: WebchatMessage[]; pending: { eventId: string }[] };
  }

  /** Waits until a reply (assistant/system/error message) exists for the event. */
  async reply(thread: string, eventId: string, timeoutMs = 10_000): Promise<WebchatMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { messages } = await this.messages(thread);
      const r = messages.find((m) => m.eventId === eventId && m.role !== "user" && m.role !== "command");
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no reply to ${eventId} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Opens the thread's SSE stream. Resolves once the server has registered the subscription (its response
   * headers arrived); `done` then collects events until `until` returns true.
   */
  async subscribe(
    thread: string,
    until: (ev: { type: string; [k: string]: unknown }) => boolean,
    timeoutMs = 10_000,
  ) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const res = await fetch(`${this.base}/api/threads/${thread}/events`, {
      headers: this.headers,
      signal: controller.signal,
    });
    const seen: { type: string; [k: string]: unknown }[] = [];
    const done = (async () => {
      let buf = "";
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          buf += Buffer.from(chunk).toString("utf8");
          let i = buf.indexOf("\n\n");
          while (i !== -1) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = frame
              .split("\n")
              .filter((l) => l.startsWith("data: "))
              .map((l) => l.slice(6))
              .join("\n");
            if (data) {
              const ev = JSON.parse(data);
              seen.push(ev);
              if (until(ev)) {
                controller.abort();
                return seen;
              }
            }
            i = buf.indexOf("\n\n");
          }
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
      return seen;
    })();
    return { done };
  }
}
