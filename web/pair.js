// Pairs this browser as a device that may chat (docs/webchat-api.md, "Paired devices"): the setup code from the
// link's #code=… (kept out of the address bar and of any server log) or typed, the bridge handshake asking for
// the `chat` scope, a wait for the operator's approval, then the web app signed in with the device's token.
const $ = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

const fromLink = new URLSearchParams(location.hash.slice(1)).get("code");
if (fromLink) {
  $("code").value = fromLink;
  history.replaceState(null, "", location.pathname);
}

/** @param {string} text */
const say = (text) => {
  $("status").textContent = text;
};

/** @param {Record<string, unknown>} body */
async function handshake(body) {
  const res = await fetch("/bridge/handshake", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => ({})) };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

$("pair").addEventListener("submit", async (e) => {
  e.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (document.querySelector("#pair button"));
  button.disabled = true;
  try {
    const name = $("name").value.trim() || "browser";
    const first = await handshake({
      setup_code: $("code").value.trim(),
      name,
      platform: "browser",
      scopes: ["chat"],
    });
    if (first.status !== 202) throw new Error(first.json.error || `pairing failed (HTTP ${first.status})`);
    say(`Waiting for the operator to approve "${name}" (request ${first.json.request_id}).`);
    const poll = { request_id: first.json.request_id, poll_token: first.json.poll_token };
    for (;;) {
      await sleep((first.json.poll_after_sec ?? 2) * 1000);
      const r = await handshake(poll);
      if (r.status === 202) continue;
      if (r.status !== 200) throw new Error(r.json.error || `pairing failed (HTTP ${r.status})`);
      if (!r.json.scopes?.includes("chat")) {
        throw new Error(
          `approved without the chat scope: ask the operator to pair this device again and approve it with scopes=chat`,
        );
      }
      say("Approved. Opening the chat…");
      location.replace(`/#token=${encodeURIComponent(`${r.json.device_id}.${r.json.token}`)}`);
      return;
    }
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    button.disabled = false;
  }
});
