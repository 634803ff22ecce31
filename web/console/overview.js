// Overview: readiness, uptime, store, the queues and each channel's messages per minute (live from SSE).
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { rateHistory, useStatus } from "./live.js";
import { Sparkline } from "./sparkline.js";
import { duration, html, Loading, PageTitle } from "./ui.js";

function useReady() {
  const [ready, setReady] = useState(undefined);
  useEffect(() => {
    const check = () =>
      fetch("/readyz")
        .then((r) => r.json().then((j) => setReady({ ok: r.ok, reason: j.reason })))
        .catch((err) => setReady({ ok: false, reason: err.message }));
    check();
    const t = setInterval(check, 10_000);
    return () => clearInterval(t);
  }, []);
  return ready;
}

function Queue({ name, stats }) {
  return html`<tr><th scope="row">${name}</th><td>${stats.pending}</td><td>${stats.leased}</td><td class=${stats.dead ? "bad" : ""}>${stats.dead}</td></tr>`;
}

export function OverviewPage() {
  const live = useStatus();
  const [first, setFirst] = useState({ loading: true });
  useEffect(() => {
    if (!live)
      api("GET", "/admin/api/status").then(
        (data) => setFirst({ data }),
        (error) => setFirst({ error }),
      );
  }, []);
  const ready = useReady();
  const s = live ?? first.data;
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Overview<//>
    ${s ? null : html`<${Loading} state=${first} />`}
    ${
      s &&
      html`
      <dl class="facts">
        <div><dt>Health</dt><dd id="health" class=${ready?.ok ? "good" : "bad"}>${ready === undefined ? "checking…" : ready.ok ? "ready" : `not ready: ${ready.reason ?? "unknown"}`}</dd></div>
        <div><dt>Uptime</dt><dd id="uptime">${duration(s.uptimeSec)}</dd></div>
        <div><dt>Store</dt><dd>${s.store}</dd></div>
        <div><dt>Version</dt><dd>${s.version}</dd></div>
        <div><dt>URL</dt><dd>${s.url}</dd></div>
      </dl>
      <h2>Queues</h2>
      <div class="scroll"><table id="queues">
        <thead><tr><th scope="col">Queue</th><th scope="col">Pending</th><th scope="col">In flight</th><th scope="col">Dead</th></tr></thead>
        <tbody><${Queue} name="Inbox" stats=${s.inbox} /><${Queue} name="Outbox" stats=${s.outbox} /></tbody>
      </table></div>
      ${s.inbox.dead + s.outbox.dead > 0 ? html`<p><a href="#/dead-letters">See the dead letters</a></p>` : null}
      <h2>Messages per minute</h2>
      <ul class="rates">
        ${(s.channels ?? [])
          .map((c) => c.channel)
          .filter((c, i, a) => a.indexOf(c) === i)
          .map((ch) => {
            const values = rateHistory(ch);
            const now = s.rates?.[ch] ?? 0;
            return html`<li data-channel=${ch}><span class="name">${ch}</span>
            <${Sparkline} values=${values} label=${`${ch}: ${now} messages in the last minute`} />
            <span class="rate">${now}/min</span></li>`;
          })}
      </ul>`
    }
  </section>`;
}
