// Sign-in with the admin token. With no token configured, a browser on this machine signs in with the field empty.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./ui.js";

export function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api("POST", "/console/api/session", token ? { token } : {});
      onSignedIn();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="signin">
    <h1>clawgate console</h1>
    <form onSubmit=${submit}>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" value=${token}
        aria-describedby="token-help" aria-invalid=${error ? "true" : undefined} onInput=${(e) => setToken(e.currentTarget.value)} />
      <p id="token-help" class="muted">The server's adminToken (CLAWGATE_ADMIN_TOKEN). Leave it empty when none is set and this browser runs on the gateway's machine.</p>
      <button type="submit" disabled=${busy}>Sign in</button>
      <p id="signin-error" class="error-text" role="alert">${error}</p>
    </form>
  </main>`;
}
