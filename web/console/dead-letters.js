// Dead letters of the inbox and the outbox: reason, payload preview, retry, discard, and retry-all.
import { api } from "./api.js";
import { useStatus } from "./live.js";
import { Act, html, Loading, PageTitle, useLoad, when } from "./ui.js";

function Queue({ name, title }) {
  // Read again whenever the live status says this queue's counts changed (all of them, not only the dead: a
  // discard and a new dead letter within one tick leave that count as it was).
  const counts = JSON.stringify(useStatus()?.[name] ?? null);
  const state = useLoad(() => api("GET", `/admin/api/${name}?state=dead&limit=100`), [counts]);
  const items = state.data?.items ?? [];
  return html`<section aria-labelledby=${`dead-${name}`} data-queue=${name}>
    <h2 id=${`dead-${name}`}>${title} (${items.length})</h2>
    <${Loading} state=${state} />
    ${
      items.length
        ? html`<${Act} label=${`Retry all ${items.length}`} context=${`dead ${title.toLowerCase()} items`}
          run=${() => api("POST", `/admin/api/${name}/retry-dead`)}
          done=${(r) => {
            state.reload();
            return r;
          }} />`
        : state.data
          ? html`<p>Nothing is dead here.</p>`
          : null
    }
    <ul class="list">
      ${items.map((it) => {
        const id = String(it.id);
        return html`<li class="card dead" data-id=${id}>
          <div class="meta"><strong>${id}</strong> · ${it.channel ? `${it.channel}/${it.account} · ` : ""}${it.attempts} attempts · ${when(it.receivedAt ?? it.createdAt)}</div>
          <p class="reason"><span class="label">Reason:</span> ${it.lastError ?? "unknown"}</p>
          ${it.preview ? html`<pre class="preview">${it.preview}</pre>` : null}
          <div class="actions">
            <${Act} label="Retry" context=${id} run=${() => api("POST", `/admin/api/${name}/${encodeURIComponent(id)}/retry`)} done=${state.reload} />
            <${Act} label="Discard" kind="danger" context=${id} confirm=${`Discard ${id}? It is kept as finished with its error.`}
              run=${() => api("POST", `/admin/api/${name}/${encodeURIComponent(id)}/discard`)} done=${state.reload} />
          </div>
        </li>`;
      })}
    </ul>
  </section>`;
}

export function DeadLettersPage() {
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Dead letters<//>
    <${Queue} name="inbox" title="Inbox" />
    <${Queue} name="outbox" title="Outbox" />
  </section>`;
}
