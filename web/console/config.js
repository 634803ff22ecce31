// The effective configuration, secrets masked by the server, with where each value came from.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html, Loading, PageTitle, useLoad } from "./ui.js";

/** {a:{b:1}} → [["a.b", 1]]; arrays and scalars are leaves. */
function flatten(value, prefix = "", out = []) {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, value]);
  return out;
}

/** The source of a key, or of the nearest parent key that has one. */
function sourceOf(sources, key) {
  for (let k = key; k; k = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : "")
    if (sources[k]) return sources[k];
  return "default";
}

export function ConfigPage() {
  const state = useLoad(() => api("GET", "/admin/api/config"));
  const [filter, setFilter] = useState("");
  const rows = state.data
    ? flatten(state.data.config).filter(([k]) => k.toLowerCase().includes(filter.toLowerCase()))
    : [];
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Config<//>
    <${Loading} state=${state} />
    <div class="field">
      <label for="config-filter">Filter keys</label>
      <input id="config-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
    </div>
    <div class="scroll"><table id="config">
      <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead>
      <tbody>
        ${rows.map(([k, v]) => {
          const src = sourceOf(state.data.sources ?? {}, k);
          return html`<tr data-key=${k}><th scope="row"><code>${k}</code></th><td><code>${JSON.stringify(v)}</code></td><td class=${`src ${src}`}>${src}</td></tr>`;
        })}
      </tbody>
    </table></div>
  </section>`;
}
