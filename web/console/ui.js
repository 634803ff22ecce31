// Shared bits: htm bound to Preact, the status line every action reports to, buttons that call the API.

import htm from "htm";
import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";

export const html = htm.bind(h);

const announcers = new Set();
/** Says something in the page's aria-live status line. */
export function announce(text, kind = "info") {
  for (const a of announcers) a({ text, kind, at: Date.now() });
}
export function useAnnouncement() {
  const [msg, setMsg] = useState(undefined);
  useEffect(() => {
    announcers.add(setMsg);
    return () => announcers.delete(setMsg);
  }, []);
  return msg;
}

/** Loads data for a page; `reload` runs the loader again. */
export function useLoad(loader, deps = []) {
  const [state, setState] = useState({ loading: true });
  const reload = useCallback(() => {
    loader().then(
      (data) => setState({ data }),
      (error) => setState({ error }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** A button that runs an admin call, reports the outcome, and is disabled while it runs. */
export function Act({ label, run, done, confirm: question, kind, context }) {
  const [busy, setBusy] = useState(false);
  const click = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    try {
      const r = await run();
      announce(typeof done === "string" ? done : (r?.message ?? `${label}: done`));
      if (typeof done === "function") done(r);
    } catch (err) {
      announce(err.message, "error");
    } finally {
      setBusy(false);
    }
  };
  // The context (which item) is read out after the visible label, so many "Retry" buttons are told apart.
  return html`<button type="button" class=${kind ?? ""} disabled=${busy} onClick=${click}>${label}${context ? html`<span class="sr-only"> ${context}</span>` : null}</button>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <p>${error.message}</p>
    ${error.problems?.length ? html`<ul>${error.problems.map((p) => html`<li>${typeof p === "string" ? p : JSON.stringify(p)}</li>`)}</ul>` : null}
  </div>`;
}

export function Loading({ state }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  if (state.loading) return html`<p class="muted">Loading…</p>`;
  return null;
}

export const when = (ms) => (ms ? new Date(ms).toLocaleString() : "—");

export function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function duration(sec) {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${sec % 60}s`;
}

export function PageTitle({ children }) {
  return html`<h1 id="page-title" tabindex="-1">${children}</h1>`;
}
