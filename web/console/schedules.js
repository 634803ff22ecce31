// Schedules: list, add (the cron field shows the next runs from the preview API), run now, pause, resume, remove.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "./api.js";
import { Act, announce, ErrorNote, html, Loading, PageTitle, useLoad, when } from "./ui.js";

function CronPreview({ cron, timezone }) {
  const [state, setState] = useState({});
  useEffect(() => {
    if (!cron.trim()) return setState({});
    const t = setTimeout(() => {
      api("GET", `/admin/api/schedules/preview${qs({ cron, timezone, count: 5 })}`).then(
        (r) => setState({ runs: r.runs ?? r.next ?? r.times ?? [] }),
        (error) => setState({ error: error.message }),
      );
    }, 300);
    return () => clearTimeout(t);
  }, [cron, timezone]);
  return html`<div id="cron-preview" aria-live="polite">
    ${state.error ? html`<p class="error-text">${state.error}</p>` : null}
    ${state.runs?.length ? html`<p>Next runs:</p><ol class="runs">${state.runs.map((t) => html`<li>${when(typeof t === "number" ? t : Date.parse(t))}</li>`)}</ol>` : null}
  </div>`;
}

const EMPTY = { template: "", target: "", cron: "", timezone: "", inputs: "" };

function AddSchedule({ onAdded }) {
  const [f, setF] = useState(EMPTY);
  const [error, setError] = useState(undefined);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(undefined);
    const inputs = Object.fromEntries(
      f.inputs
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => [l.split("=")[0].trim(), l.slice(l.indexOf("=") + 1).trim()]),
    );
    try {
      const r = await api("POST", "/admin/api/schedules", {
        template: f.template,
        target: f.target,
        cron: f.cron,
        timezone: f.timezone || undefined,
        inputs,
      });
      announce(`Schedule ${r.schedule?.id ?? ""} added`);
      setF(EMPTY);
      onAdded();
    } catch (err) {
      setError(err);
    }
  };
  const field = (k, label, help) => html`<div class="field">
    <label for=${`sched-${k}`}>${label}</label>
    <input id=${`sched-${k}`} value=${f[k]} onInput=${set(k)} aria-describedby=${help ? `sched-${k}-help` : undefined} />
    ${help ? html`<p id=${`sched-${k}-help`} class="muted">${help}</p>` : null}
  </div>`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="add-schedule">
    <h2 id="add-schedule">Add a schedule</h2>
    ${field("template", "Template", "A ComfyUI template name, e.g. txt2img")}
    ${field("target", "Deliver to", "A session key, e.g. telegram:123456")}
    ${field("cron", "Cron", "Five fields: minute hour day month weekday, e.g. 0 9 * * *")}
    <${CronPreview} cron=${f.cron} timezone=${f.timezone} />
    ${field("timezone", "Time zone (optional)", "e.g. Europe/Berlin; the server's when empty")}
    <label for="sched-inputs">Inputs (one key=value a line)</label>
    <textarea id="sched-inputs" rows="3" value=${f.inputs} onInput=${set("inputs")}></textarea>
    <${ErrorNote} error=${error} />
    <button type="submit">Add schedule</button>
  </form>`;
}

export function SchedulesPage() {
  const state = useLoad(() => api("GET", "/admin/api/schedules"));
  const list = state.data?.schedules ?? [];
  const call = (s, verb) => () => api("POST", `/admin/api/schedules/${encodeURIComponent(s.id)}/${verb}`);
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Schedules<//>
    <${Loading} state=${state} />
    ${state.data && !list.length ? html`<p>No schedules yet.</p>` : null}
    <ul class="list">
      ${list.map(
        (s) => html`<li class="card" data-id=${s.id}>
          <p><strong>${s.template}</strong> → ${s.target} · <code>${s.cron ?? `every ${s.everySec}s`}</code>${s.timezone ? ` (${s.timezone})` : ""}
            · <span class=${`badge ${s.paused ? "paused" : "active"}`}>${s.paused ? "paused" : "active"}</span></p>
          <p class="muted">Next ${when(s.nextRunAt)} · last ${when(s.lastRunAt)} · ${s.runs} runs${s.lastError ? html` · <span class="bad">${s.lastError}</span>` : ""}</p>
          <div class="actions">
            <${Act} label="Run now" context=${s.id} run=${call(s, "run")} done=${state.reload} />
            ${
              s.paused
                ? html`<${Act} label="Resume" context=${s.id} run=${call(s, "resume")} done=${state.reload} />`
                : html`<${Act} label="Pause" context=${s.id} run=${call(s, "pause")} done=${state.reload} />`
            }
            <${Act} label="Remove" kind="danger" context=${s.id} confirm=${`Remove the schedule ${s.id}?`}
              run=${() => api("DELETE", `/admin/api/schedules/${encodeURIComponent(s.id)}`)} done=${state.reload} />
          </div>
        </li>`,
      )}
    </ul>
    <${AddSchedule} onAdded=${state.reload} />
  </section>`;
}
