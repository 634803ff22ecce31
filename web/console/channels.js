// Channels: each running account with its state and last activity, start/stop/restart, and the config editor.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { ChannelConfig } from "./channel-config.js";
import { useStatus } from "./live.js";
import { Act, ago, html, Loading, PageTitle, when } from "./ui.js";

function Account({ c, refresh }) {
  const base = `/admin/api/channels/${encodeURIComponent(c.channel)}/${encodeURIComponent(c.account)}`;
  const name = `${c.channel}/${c.account}`;
  return html`<article class="card" data-account=${name} aria-labelledby=${`acct-${name}`}>
    <h3 id=${`acct-${name}`}>${name} <span class=${`badge ${c.state ?? c.status}`}>${c.state ?? c.status}</span>
      ${c.status === "error" && c.state !== "error" ? html` <span class="badge error">failing</span>` : null}</h3>
    <dl class="facts">
      <div><dt>Listener</dt><dd>${c.listen ? (typeof c.listen === "string" ? c.listen : JSON.stringify(c.listen)) : "main listener"}</dd></div>
      <div><dt>Last inbound</dt><dd title=${when(c.lastInboundAt)}>${ago(c.lastInboundAt)}</dd></div>
      <div><dt>Last outbound</dt><dd title=${when(c.lastOutboundAt)}>${ago(c.lastOutboundAt)}</dd></div>
      <div><dt>Agent URL</dt><dd>${c.agentUrl ?? "—"}</dd></div>
      <div class="wide"><dt>Last error</dt><dd class=${c.lastError ? "bad" : ""}>${c.lastError ? `${c.lastError.message} (${when(c.lastError.at)})` : "none"}</dd></div>
    </dl>
    <div class="actions">
      ${["start", "stop", "restart"].map(
        (action) => html`<${Act} label=${action[0].toUpperCase() + action.slice(1)} context=${name}
          run=${() => api("POST", `${base}/${action}`)} done=${() => refresh()} />`,
      )}
    </div>
  </article>`;
}

export function ChannelsPage() {
  const live = useStatus();
  const [state, setState] = useState({ loading: true });
  const refresh = () =>
    api("GET", "/admin/api/status").then(
      (data) => setState({ data }),
      (error) => setState({ error }),
    );
  useEffect(() => {
    refresh();
  }, []);
  useEffect(() => {
    if (live) setState({ data: live });
  }, [live]);
  const channels = state.data?.channels ?? [];
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Channels<//>
    <${Loading} state=${state} />
    ${state.data && !channels.length ? html`<p>No channel is running.</p>` : null}
    <div class="cards">${channels.map((c) => html`<${Account} key=${`${c.channel}/${c.account}`} c=${c} refresh=${refresh} />`)}</div>
    <${ChannelConfig} onApplied=${refresh} />
  </section>`;
}
