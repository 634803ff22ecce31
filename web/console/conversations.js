// Conversations: search by channel, user and text; open one to read its history with each answer's target and
// latency.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "./api.js";
import { ErrorNote, html, PageTitle, when } from "./ui.js";

function History({ conv, onClose }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    api("GET", `/admin/api/conversations/${encodeURIComponent(conv.key)}/messages?limit=200`).then(
      (data) => setState({ messages: data.messages }),
      (error) => setState({ error }),
    );
  }, []);
  return html`<section class="card history" aria-labelledby="history-title">
    <h2 id="history-title">${conv.title || conv.key}</h2>
    <button type="button" onClick=${onClose}>Close history</button>
    <${ErrorNote} error=${state.error} />
    ${state.loading ? html`<p class="muted">Loading…</p>` : null}
    <ol class="messages">
      ${(state.messages ?? []).map(
        (m) => html`<li class=${`msg ${m.role}`} data-msg-id=${m.id}>
          <div class="meta"><strong>${m.role === "user" ? m.author || "user" : m.role}</strong> · ${when(m.createdAt)}
            ${m.target ? html` · <span class="target">target ${m.target}</span>` : null}
            ${m.latencyMs !== undefined && m.latencyMs !== null ? html` · <span class="latency">${m.latencyMs} ms</span>` : null}</div>
          <div class="text">${m.content}</div>
        </li>`,
      )}
    </ol>
  </section>`;
}

export function ConversationsPage() {
  const [filter, setFilter] = useState({ channel: "", user: "", q: "" });
  const [result, setResult] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [open, setOpen] = useState(undefined);
  const search = async (e) => {
    e?.preventDefault();
    setError(undefined);
    try {
      setResult((await api("GET", `/admin/api/conversations${qs({ ...filter, limit: 50 })}`)).conversations);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    search();
  }, []);
  const field = (key, label) => html`<div class="field">
    <label for=${`conv-${key}`}>${label}</label>
    <input id=${`conv-${key}`} type="search" value=${filter[key]} onInput=${(e) => setFilter({ ...filter, [key]: e.currentTarget.value })} />
  </div>`;
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Conversations<//>
    <form class="filters" role="search" onSubmit=${search}>
      ${field("channel", "Channel")} ${field("user", "User")} ${field("q", "Text")}
      <button type="submit">Search</button>
    </form>
    <${ErrorNote} error=${error} />
    ${result && !result.length ? html`<p>No conversation matches.</p>` : null}
    <ul class="list conversations">
      ${(result ?? []).map(
        (
          c,
        ) => html`<li><button type="button" class="link" onClick=${() => setOpen(c)}>${c.title || c.conversationId}</button>
          <span class="muted"> ${c.channel}/${c.account} · ${when(c.updatedAt)}</span>
          ${c.lastMessage ? html`<div class="preview">${c.lastMessage}</div>` : null}</li>`,
      )}
    </ul>
    ${open ? html`<${History} key=${open.key} conv=${open} onClose=${() => setOpen(undefined)} />` : null}
  </section>`;
}
