// The web chat against the gateway's own API: the "platform" is the browser, so what it received is what the
// thread's event stream (SSE) published. Inbound: POST /api/threads/:id/messages; a redelivery is the same
// clientMessageId again (a page retrying after a lost answer). A request a local proxy relays must carry the
// bearer token, so the "bad signature" is a relayed request with a wrong token. The gateway delivers to the page
// itself: there is no platform to answer 429 or refuse for good, and no platform limit to chunk at
// (maxTextLength is above the answer cap), so those steps are skipped with that reason.
import { randomUUID } from "node:crypto";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const TOKEN = "webchat-contract-token-0123456789";

interface ReplyEvent {
  type: string;
  text?: string;
  buttons?: { label: string; value: string }[];
}

export function webchatDriver(): ChannelDriver {
  let gw: TestGateway;
  let thread = "";
  const received: PlatformMessage[] = [];
  const stream = new AbortController();
  const auth = { authorization: `Bearer ${TOKEN}` };

  const post = async (path: string, body: unknown, headers: Record<string, string> = auth) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    return res.status;
  };

  /** Collects the thread's "reply" events for the whole run, as an open page does. */
  async function listen() {
    const res = await fetch(`${gw.url}/api/threads/${thread}/events`, {
      headers: auth,
      signal: stream.signal,
    });
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    void (async () => {
      let buf = "";
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          buf += Buffer.from(chunk).toString("utf8");
          for (let i = buf.indexOf("\n\n"); i !== -1; i = buf.indexOf("\n\n")) {
            const data = buf
              .slice(0, i)
              .split("\n")
              .filter((l) => l.startsWith("data: "))
              .map((l) => l.slice(6))
              .join("\n");
            buf = buf.slice(i + 2);
            if (!data) continue;
            const ev = JSON.parse(data) as ReplyEvent;
            if (ev.type === "reply" && ev.text)
              received.push({ text: ev.text, at: Date.now(), buttons: ev.buttons ?? [] });
          }
        }
      } catch (err) {
        if (!stream.signal.aborted) throw err;
      }
    })();
  }

  return {
    channel: "webchat",
    account: "default",
    async start(o) {
      gw = await startTestGateway({
        config: { ...o.config, agentUrl: o.agentUrl, webchat: { token: TOKEN } },
        extensions: o.extensions,
      });
      const res = await fetch(`${gw.url}/api/threads`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ title: "contract" }),
      });
      thread = ((await res.json()) as { id: string }).id;
      await listen();
      return gw;
    },
    async stop() {
      stream.abort();
      await gw?.stop();
    },
    address: () => ({ channel: "webchat", account: "default", conversationId: thread }),
    async sendText(text) {
      const body = { text, clientMessageId: randomUUID().replace(/-/g, "") };
      const status = await post(`/api/threads/${thread}/messages`, body);
      return { status, redeliver: () => post(`/api/threads/${thread}/messages`, body) };
    },
    sendBadSignature: (text) =>
      post(
        `/api/threads/${thread}/messages`,
        { text, clientMessageId: randomUUID().replace(/-/g, "") },
        { authorization: `Bearer ${TOKEN}-wrong`, "x-forwarded-for": "203.0.113.9" },
      ),
    messages: () => received,
    // Live previews are separate "preview" events; a "reply" is never replaced.
    editCount: () => 0,
    rateLimitNextSend: { skip: "the gateway delivers to the page itself: no platform answers 429" },
    failNextSendPermanently: { skip: "the gateway delivers to the page itself: no platform refuses" },
    chunking: { skip: "no platform limit: maxTextLength (100,000) is above the answer cap" },
    pressButton: (_message, { value }) => post(`/api/threads/${thread}/actions`, { value }),
  };
}
