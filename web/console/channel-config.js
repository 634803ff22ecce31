// Add, edit and remove channel sections of the config file. The server validates them with the config file's
// schema and answers its problems; secrets come back masked and stay unchanged unless a new value is typed.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { announce, ErrorNote, html, useLoad } from "./ui.js";

const pretty = (v) => JSON.stringify(v, null, 2);

function describe(r) {
  const changes = Array.isArray(r?.channels) ? r.channels : [];
  return changes.length
    ? `Applied: ${changes.map((c) => (typeof c === "string" ? c : JSON.stringify(c))).join(", ")}`
    : "Saved and applied.";
}

function Section({ name, value, onDone }) {
  const [text, setText] = useState(pretty(value));
  const [error, setError] = useState(undefined);
  const id = `cfg-${name}`;
  const save = async () => {
    setError(undefined);
    let body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return setError(new Error(`The ${name} section is not valid JSON: ${err.message}`));
    }
    try {
      announce(describe(await api("PUT", `/admin/api/config/channels/${encodeURIComponent(name)}`, body)));
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    if (!window.confirm(`Remove the ${name} section from the config file and stop its accounts?`)) return;
    try {
      announce(describe(await api("DELETE", `/admin/api/config/channels/${encodeURIComponent(name)}`)));
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<details class="card" data-section=${name}>
    <summary>${name}</summary>
    <label for=${id}>Settings of ${name} (JSON; masked secrets stay as they are unless you type a new value)</label>
    <textarea id=${id} rows="10" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    <${ErrorNote} error=${error} />
    <div class="actions">
      <button type="button" onClick=${save}>Save and apply ${name}</button>
      <button type="button" class="danger" onClick=${remove}>Remove ${name}</button>
    </div>
  </details>`;
}

function AddSection({ onDone }) {
  const [name, setName] = useState("");
  const [text, setText] = useState("{\n  \n}");
  const [error, setError] = useState(undefined);
  const add = async (e) => {
    e.preventDefault();
    setError(undefined);
    try {
      const body = JSON.parse(text);
      announce(
        describe(await api("PUT", `/admin/api/config/channels/${encodeURIComponent(name.trim())}`, body)),
      );
      setName("");
      onDone();
    } catch (err) {
      setError(
        err instanceof SyntaxError ? new Error(`The settings are not valid JSON: ${err.message}`) : err,
      );
    }
  };
  return html`<form class="card" onSubmit=${add}>
    <h3>Add a channel</h3>
    <label for="new-channel">Channel (telegram, slack, discord, …)</label>
    <input id="new-channel" required value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
    <label for="new-channel-settings">Settings (JSON)</label>
    <textarea id="new-channel-settings" rows="6" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    <${ErrorNote} error=${error} />
    <button type="submit">Add and apply</button>
  </form>`;
}

export function ChannelConfig({ onApplied }) {
  const state = useLoad(() => api("GET", "/admin/api/config/channels"));
  const done = () => {
    state.reload();
    onApplied();
  };
  const sections = state.data?.channels ?? state.data?.sections ?? {};
  return html`<section aria-labelledby="channel-config">
    <h2 id="channel-config">Channel settings</h2>
    ${state.error ? html`<${ErrorNote} error=${state.error} />` : null}
    ${Object.entries(sections).map(([name, value]) => html`<${Section} key=${`${name}:${JSON.stringify(value)}`} name=${name} value=${value} onDone=${done} />`)}
    <${AddSection} onDone=${done} />
  </section>`;
}
