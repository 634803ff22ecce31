// The live feed (GET /admin/api/events, SSE; EventSource sends the session cookie same-origin): the latest
// status, a short history of each channel's messages per minute for the sparklines, and new audit entries.
import { useEffect, useState } from "preact/hooks";

const HISTORY = 30;
const subs = { status: new Set(), audit: new Set(), connection: new Set() };
let source;
let latest;
let connection = "connecting";
const rates = new Map();

function emit(kind, value) {
  for (const fn of subs[kind]) fn(value);
}

function setConnection(state) {
  connection = state;
  emit("connection", state);
}

export function connect() {
  if (source) return;
  source = new EventSource("/admin/api/events");
  source.addEventListener("open", () => setConnection("live"));
  source.addEventListener("error", () => {
    setConnection("reconnecting");
    // The browser retries a dropped stream by itself, but gives up on an answer that is not a stream (401 after
    // the session expired, 503 while the gateway restarts): ask whether we are still signed in, then reconnect.
    if (source?.readyState === EventSource.CLOSED) setTimeout(recover, 3000);
  });
  source.addEventListener("status", (e) => {
    latest = JSON.parse(e.data);
    const seen = new Set(Object.keys(latest.rates ?? {}));
    for (const c of latest.channels ?? []) seen.add(c.channel);
    for (const ch of seen) {
      const list = rates.get(ch) ?? [];
      list.push(latest.rates?.[ch] ?? 0);
      if (list.length > HISTORY) list.shift();
      rates.set(ch, list);
    }
    emit("status", latest);
  });
  source.addEventListener("audit", (e) => emit("audit", JSON.parse(e.data)));
}

async function recover() {
  if (!source) return;
  const res = await fetch("/console/api/session").catch(() => undefined);
  if (res?.status === 401) return window.dispatchEvent(new Event("console:signed-out"));
  source.close();
  source = undefined;
  connect();
}

export function disconnect() {
  source?.close();
  source = undefined;
  latest = undefined;
  rates.clear();
}

function useFeed(kind, initial) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    subs[kind].add(setValue);
    return () => subs[kind].delete(setValue);
  }, []);
  return value;
}

/** The latest status event (undefined until the first arrives). */
export const useStatus = () => useFeed("status", latest);
export const useConnection = () => useFeed("connection", connection);
export const rateHistory = (channel) => rates.get(channel) ?? [];

/** Calls `fn` with each new audit entry while the component is shown. */
export function useAuditFeed(fn) {
  useEffect(() => {
    subs.audit.add(fn);
    return () => subs.audit.delete(fn);
  }, [fn]);
}
