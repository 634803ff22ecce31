// The web chat page: threads on the left, messages on the right, replies streamed over server-sent events.
// Plain browser JavaScript, no build step. A token (for non-loopback use) is read from #token=… once and kept.

const tokenFromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (tokenFromHash) {
  localStorage.setItem("clawgate-token", tokenFromHash);
  history.replaceState(null, "", location.pathname);
}
const token = localStorage.getItem("clawgate-token");
const authHeaders = token ? { authorization: `Bearer ${token}` } : {};

const $ = (id) => document.getElementById(id);
const state = { thread: null, lastId: 0, streams: new Map(), abort: null };

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { ...authHeaders, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || `HTTP ${res.status}`);
  return json;
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

async function loadThreads() {
  const { threads } = await api("GET", "/api/threads");
  const nav = $("threads");
  nav.replaceChildren();
  for (const t of threads) {
    const b = document.createElement("button");
    b.className = `thread${t.id === state.thread ? " active" : ""}`;
    b.dataset.id = t.id;
    b.textContent = t.title || "New chat";
    const small = document.createElement("small");
    small.textContent = t.lastMessage || "";
    b.append(small);
    b.onclick = () => openThread(t.id);
    nav.append(b);
  }
  return threads;
}

function bubble(role, text, extra = {}) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  if (extra.eventId) div.dataset.eventId = extra.eventId;
  if (extra.media) {
    for (const m of extra.media) {
      const img = document.createElement("img");
      img.alt = m.caption || m.filename;
      img.src = `data:${m.mime};base64,${m.dataBase64}`;
      div.append(img);
    }
  }
  if (extra.buttons?.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const btn of extra.buttons) {
      const b = document.createElement("button");
      b.textContent = btn.label;
      b.onclick = () =>
        api("POST", `/api/threads/${state.thread}/actions`, { value: btn.value }).catch((e) =>
          banner(e.message),
        );
      row.append(b);
    }
    div.append(row);
  }
  $("messages").append(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

async function refreshMessages() {
  if (!state.thread) return;
  const { messages, pending } = await api(
    "GET",
    `/api/threads/${state.thread}/messages?after=${state.lastId}`,
  );
  for (const m of messages) {
    document.querySelector(`.msg.pending[data-event-id="${CSS.escape(m.eventId || "")}"]`)?.remove();
    if (m.role === "assistant" || m.role === "error") {
      state.streams.get(m.eventId)?.remove();
      state.streams.delete(m.eventId);
    }
    bubble(m.role, m.content, { eventId: m.eventId });
    state.lastId = Math.max(state.lastId, m.id);
  }
  for (const p of pending) {
    if (!document.querySelector(`.msg[data-event-id="${CSS.escape(p.eventId)}"]`)) {
      bubble("user pending", p.text, { eventId: p.eventId });
    }
  }
}

function listen(thread) {
  state.abort?.abort();
  const ctrl = new AbortController();
  state.abort = ctrl;
  (async () => {
    for (;;) {
      try {
        const res = await fetch(`/api/threads/${thread}/events`, {
          headers: authHeaders,
          signal: ctrl.signal,
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i = buf.indexOf("\n\n");
          while (i !== -1) {
            handleFrame(buf.slice(0, i));
            buf = buf.slice(i + 2);
            i = buf.indexOf("\n\n");
          }
        }
      } catch {
        if (ctrl.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 1000));
      if (ctrl.signal.aborted) return;
      refreshMessages().catch(() => {});
    }
  })();
}

function handleFrame(frame) {
  const data = frame
    .split("\n")
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6))
    .join("\n");
  if (!data) return;
  const ev = JSON.parse(data);
  if (ev.type === "delta") {
    let el = state.streams.get(ev.eventId);
    if (!el) {
      el = bubble("assistant streaming", "");
      state.streams.set(ev.eventId, el);
    }
    el.textContent = ev.text;
    el.scrollIntoView({ block: "end" });
  } else if (ev.type === "reply") {
    if (ev.media?.length || ev.buttons?.length) {
      refreshMessages()
        .then(() => {
          const last = [...document.querySelectorAll(".msg")].at(-1);
          last?.remove();
          bubble(ev.kind === "error" ? "error" : "assistant", ev.text, ev);
        })
        .catch((e) => banner(e.message));
    } else {
      refreshMessages().catch((e) => banner(e.message));
    }
    loadThreads().catch(() => {});
  }
}

async function openThread(id) {
  state.thread = id;
  state.lastId = 0;
  state.streams.clear();
  $("messages").replaceChildren();
  location.hash = id;
  for (const el of document.querySelectorAll(".thread")) el.classList.toggle("active", el.dataset.id === id);
  listen(id);
  await refreshMessages();
  $("input").focus();
}

async function newThread() {
  const t = await api("POST", "/api/threads", {});
  await loadThreads();
  await openThread(t.id);
}

async function send(text) {
  if (!state.thread) await newThread();
  const clientMessageId = crypto.randomUUID().replace(/-/g, "");
  const el = bubble("user pending", text);
  try {
    const r = await api("POST", `/api/threads/${state.thread}/messages`, { text, clientMessageId });
    el.dataset.eventId = r.eventId;
    banner("");
  } catch (e) {
    el.classList.add("error");
    banner(`Not sent: ${e.message}`);
  }
  loadThreads().catch(() => {});
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value;
  if (!text.trim()) return;
  $("input").value = "";
  send(text);
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("composer").requestSubmit();
  }
});
$("new-thread").onclick = () => newThread().catch((e) => banner(e.message));

(async () => {
  try {
    const threads = await loadThreads();
    const wanted = location.hash.slice(1);
    const pick = threads.find((t) => t.id === wanted) ?? threads[0];
    if (pick) await openThread(pick.id);
  } catch (e) {
    banner(`Cannot reach the gateway: ${e.message}`);
  }
})();
