// Pairing: a device setup code as a QR image with its expiry counting down; pending device and DM-pairing
// requests to approve or reject; paired devices to rotate or revoke.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { Act, announce, html, Loading, PageTitle, useLoad, when } from "./ui.js";

function Countdown({ until }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, Math.round((until - now) / 1000));
  if (!left) return html`<span class="bad">expired</span>`;
  return html`<span>expires in <span class="countdown">${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}</span></span>`;
}

function SetupCode() {
  const [setup, setSetup] = useState(undefined);
  return html`<section aria-labelledby="setup-title">
    <h2 id="setup-title">New device</h2>
    <${Act} label="Create a setup code" run=${() => api("POST", "/admin/api/pair", {})} done=${(r) => setSetup(r)} />
    ${
      setup &&
      html`<div class="card setup">
      <img id="setup-qr" src=${`/admin/api/pair/qr?code=${encodeURIComponent(setup.code)}`} width="220" height="220"
        alt="QR code of the setup code: scan it with the device app" />
      <p>Scan it in the device app, or enter the code: <code id="setup-code">${setup.code}</code></p>
      <p role="timer" aria-live="off"><${Countdown} until=${setup.expiresAtMs} /></p>
    </div>`
    }
  </section>`;
}

function Pending({ onApproved }) {
  const state = useLoad(() => api("GET", "/admin/api/pair/pending"));
  useEffect(() => {
    const t = setInterval(state.reload, 5000);
    return () => clearInterval(t);
  }, [state.reload]);
  const items = state.data?.items ?? [];
  const decide = (verb, id) => () => api("POST", `/admin/api/pair/${verb}`, { id });
  return html`<section aria-labelledby="pending-title">
    <h2 id="pending-title">Waiting for approval (${items.length})</h2>
    <${Loading} state=${state} />
    <ul class="list">
      ${items.map(
        (r) => html`<li class="card" data-id=${r.id}>
          <p>${r.kind === "device" ? html`Device <strong>${r.name || r.id}</strong> (${r.platform ?? "unknown platform"})` : html`DM pairing <strong>${r.id}</strong> from ${r.senderName || r.senderId} on ${r.channel}/${r.account}`}
            <span class="muted"> · ${when(r.createdAt)}</span></p>
          <div class="actions">
            <${Act} label="Approve" context=${r.id} run=${decide("approve", r.id)} done=${(x) => {
              announce(x.message ?? "Approved");
              state.reload();
              onApproved();
            }} />
            <${Act} label="Reject" kind="danger" context=${r.id} run=${decide("reject", r.id)} done=${state.reload} />
          </div>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Devices({ version }) {
  const state = useLoad(() => api("GET", "/admin/api/devices"), [version]);
  // A device is listed once it has collected its token, which it does on its own.
  useEffect(() => {
    const t = setInterval(state.reload, 5000);
    return () => clearInterval(t);
  }, [state.reload]);
  const [issued, setIssued] = useState(undefined);
  const devices = state.data?.devices ?? [];
  return html`<section aria-labelledby="devices-title">
    <h2 id="devices-title">Paired devices (${devices.length})</h2>
    <${Loading} state=${state} />
    ${issued && html`<div class="card"><p>New token for ${issued.deviceId ?? "the device"} (shown once): <code>${issued.token}</code></p></div>`}
    <ul class="list">
      ${devices.map(
        (d) => html`<li class="card" data-id=${d.id}>
          <p><strong>${d.name || d.id}</strong> · ${d.platform ?? ""} · <span class=${`badge ${d.status}`}>${d.status}</span>
            <span class="muted"> · approved by ${d.approvedBy ?? "?"} ${when(d.createdAt)}</span></p>
          ${
            d.status === "revoked"
              ? null
              : html`<div class="actions">
            <${Act} label="Rotate token" context=${`of ${d.name || d.id}`} run=${() => api("POST", `/admin/api/devices/${encodeURIComponent(d.id)}/rotate`, {})}
              done=${(r) => {
                setIssued({ deviceId: d.id, ...r });
                state.reload();
              }} />
            <${Act} label="Revoke" kind="danger" context=${d.name || d.id} confirm=${`Revoke ${d.name || d.id}? It can no longer connect.`}
              run=${() => api("POST", `/admin/api/devices/${encodeURIComponent(d.id)}/revoke`, {})} done=${state.reload} />
          </div>`
          }
        </li>`,
      )}
    </ul>
  </section>`;
}

export function PairingPage() {
  // Bumped when a request is approved, so the paired devices are read again.
  const [version, setVersion] = useState(0);
  return html`<section aria-labelledby="page-title">
    <${PageTitle}>Pairing<//>
    <${SetupCode} />
    <${Pending} onApproved=${() => setVersion((v) => v + 1)} />
    <${Devices} version=${version} />
  </section>`;
}
