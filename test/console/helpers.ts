// Calls the console API as the browser does: a JSON body with Content-Type, the session cookie, and (for
// state-changing calls) the page's own Origin.
export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

export async function api(
  url: string,
  method: string,
  path: string,
  o: { cookie?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(o.cookie ? { cookie: `clawgate_console=${o.cookie}` } : {}),
      ...(o.token ? { "x-openclaw-admin-token": o.token } : {}),
      ...o.headers,
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (204, SVG): the text is there.
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Signs in with the admin token; returns the session id from Set-Cookie. */
export async function signIn(url: string, token: string): Promise<string> {
  const r = await api(url, "POST", "/console/api/session", { body: { token } });
  if (r.status !== 204) throw new Error(`sign-in: HTTP ${r.status} ${r.text}`);
  const m = /clawgate_console=([^;]+)/.exec(r.headers.get("set-cookie") ?? "");
  if (!m) throw new Error("sign-in: no session cookie");
  return m[1]!;
}

/** Reads a Server-Sent Events stream, collecting its events until closed. */
export class EventStream {
  readonly events: { event: string; data: Record<string, unknown> }[] = [];
  readonly comments: string[] = [];
  status = 0;
  readonly #abort = new AbortController();

  static async open(url: string, headers: Record<string, string>): Promise<EventStream> {
    const s = new EventStream();
    const res = await fetch(`${url}/admin/api/events`, { headers, signal: s.#abort.signal });
    s.status = res.status;
    if (!res.body || res.status !== 200) return s;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          let end = buf.indexOf("\n\n");
          while (end >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (block.startsWith(":")) s.comments.push(block);
            else {
              const event = /^event: (.+)$/m.exec(block)?.[1] ?? "message";
              const data = /^data: (.+)$/m.exec(block)?.[1] ?? "{}";
              s.events.push({ event, data: JSON.parse(data) });
            }
            end = buf.indexOf("\n\n");
          }
        }
      } catch {
        // Closed by the test.
      }
    })();
    return s;
  }

  close() {
    this.#abort.abort();
  }
}
