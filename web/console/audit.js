// The audit log: who changed what and when, newest first, with new entries arriving live.
import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { useAuditFeed } from "./live.js";
import { ErrorNote, html, PageTitle, when } from "./ui.js";

export function AuditPage() {
  const [entries, setEntries] = useState(undefined);
  const [error, setError] = useState(undefined);
  useEffect(() => {
    api("GET", "/admin/api/audit?limit=50").then((r) => setEntries(r.entries), setError);
  }, []);
  useAuditFeed(
    useCallback(
      (e) => setEntries((list) => (list?.some((x) => x.id && x.id === e.id) ? list : [e, ...(list ?? [])])),
      [],
    ),
  );
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Audit<//>
    <${ErrorNote} error=${error} />
    <div class="scroll"><table id="audit">
      <caption>Changes made through the admin API, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Status</th></tr></thead>
      <tbody>
        ${(entries ?? []).map(
          (
            e,
          ) => html`<tr><td>${when(e.at)}</td><td>${e.who}</td><td><code>${e.method} ${e.path}</code>${e.summary ? html`<div class="muted">${e.summary}</div>` : null}</td>
            <td class=${e.status >= 400 ? "bad" : ""}>${e.status}</td></tr>`,
        )}
      </tbody>
    </table></div>
  </section>`;
}
