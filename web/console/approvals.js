// Pending approvals (ComfyUI jobs waiting for an admin) with their inputs: approve or reject with a reason.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { Act, html, Loading, PageTitle, useLoad, when } from "./ui.js";

function Approval({ a, reload }) {
  const [reason, setReason] = useState("");
  const base = `/admin/api/approvals/${encodeURIComponent(a.id)}`;
  const body = () => (reason ? { reason } : {});
  return html`<li class="card" data-id=${a.id}>
    <h2>${a.summary || a.kind} <span class="muted">${a.id}</span></h2>
    <p class="meta">Requested by ${a.requestedBy} on ${a.channel} · ${when(a.createdAt)} · expires ${when(a.expiresAt)}</p>
    ${a.inputs ? html`<dl class="facts">${Object.entries(a.inputs).map(([k, v]) => html`<div><dt>${k}</dt><dd>${typeof v === "string" ? v : JSON.stringify(v)}</dd></div>`)}</dl>` : null}
    <label for=${`reason-${a.id}`}>Reason (optional)</label>
    <input id=${`reason-${a.id}`} value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
    <div class="actions">
      <${Act} label="Approve" context=${a.id} run=${() => api("POST", `${base}/approve`, body())} done=${reload} />
      <${Act} label="Reject" kind="danger" context=${a.id} run=${() => api("POST", `${base}/reject`, body())} done=${reload} />
    </div>
  </li>`;
}

export function ApprovalsPage() {
  const state = useLoad(() => api("GET", "/admin/api/approvals"));
  // Approvals have no live event: read them again every few seconds while the page is open.
  useEffect(() => {
    const t = setInterval(state.reload, 5000);
    return () => clearInterval(t);
  }, [state.reload]);
  const items = state.data?.approvals ?? [];
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Approvals<//>
    <${Loading} state=${state} />
    ${state.data && !items.length ? html`<p>Nothing is waiting for approval.</p>` : null}
    <ul class="list">${items.map((a) => html`<${Approval} key=${a.id} a=${a} reload=${state.reload} />`)}</ul>
  </section>`;
}
