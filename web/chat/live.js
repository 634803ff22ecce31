// @ts-check
// A thread's event stream (GET /api/threads/:id/events), read with fetch so the bearer token can go along, and
// kept open: after a drop it reconnects with backoff. Each frame's JSON goes to `onFrame`; `onOpen` runs on every
// (re)connection, which is when the caller catches up on anything it missed.
/** @typedef {import("../../src/channels/webchat/frames.ts").Frame} Frame */
import { authHeaders, explain, HttpError } from "./net.js";

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the first attempt connected or failed, so a message sent right after opening a thread cannot
 * outrun the stream that will carry its reply.
 * @param {string} thread
 * @param {AbortSignal} signal ends the stream for good
 * @param {{ onOpen: () => void; onFrame: (frame: Frame) => void; status: (problem: string) => void }} o
 */
export function listen(thread, signal, o) {
  /** @type {() => void} */
  let settle = () => {};
  /** @type {Promise<void>} */
  const ready = new Promise((r) => {
    settle = r;
  });
  (async () => {
    let delay = 250;
    while (!signal.aborted) {
      try {
        const res = await fetch(`/api/threads/${thread}/events`, { headers: authHeaders, signal });
        if (!res.ok) {
          const json = await res.json().catch(() => ({}));
          throw new HttpError(res.status, explain(res.status, json.error));
        }
        o.status("");
        settle();
        delay = 250;
        o.onOpen();
        const reader = /** @type {ReadableStream<Uint8Array>} */ (res.body)
          .pipeThrough(/** @type {TransformStream<Uint8Array, string>} */ (new TextDecoderStream()))
          .getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          for (let i = buf.indexOf("\n\n"); i !== -1; i = buf.indexOf("\n\n")) {
            const frame = parseFrame(buf.slice(0, i));
            buf = buf.slice(i + 2);
            if (frame) o.onFrame(frame);
          }
        }
        if (signal.aborted) return;
        o.status("Connection to the gateway lost — reconnecting…");
      } catch (e) {
        settle();
        if (signal.aborted) return;
        o.status(
          e instanceof HttpError
            ? `Live updates refused: ${e.message}`
            : "Cannot reach the gateway — reconnecting…",
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 3000);
    }
  })().finally(settle);
  return ready;
}

/** @param {string} frame one server-sent event (its lines, without the blank line after it) @returns {Frame | undefined} */
function parseFrame(frame) {
  const data = frame
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .map((l) => l.slice(l.startsWith("data: ") ? 6 : 5))
    .join("\n");
  if (!data) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
