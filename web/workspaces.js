// @ts-check
// The workspace switcher and its panel (docs/webchat-api.md, "Workspaces", "Files", "Memory"): choose a
// workspace, start a chat in it or move the open chat into it, edit its system prompt and agent, upload, preview,
// pin, attach and delete its files with the standing-context token budget shown, and its memory (memory.js).
// Mounted by one script tag in index.html into the chat page's #panels (web/chat.js `chatPage`); it attaches a
// file through the chat's own file input, so the file goes out exactly as one chosen with Attach.

import { api, authHeaders } from "./chat/net.js";
import { chatPage } from "./chat.js";
import { memoryPanel } from "./memory.js";

/**
 * @typedef {{ id: string; name: string; systemPrompt: string | null; agentUrl: string | null; model: string | null }} Workspace
 * @typedef {{ id: string; name: string; mime: string; size: number; pinned: boolean; textChars: number; tokens: number }} WsFile
 * @typedef {{ budgetTokens: number; usedTokens: number; files: { name: string; tokens: number; cut: boolean }[]; memoryTokens: number }} Budget
 */

const STORE_KEY = "clawgate-workspace";

/** @param {string} tag @param {Record<string, string>} [props] @param {(Node | string)[]} [children] */
function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/** @param {number} n */
const size = (n) =>
  n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
const currentThread = () => chatPage.thread();

const css = el("link", { rel: "stylesheet", href: "/assets/workspaces.css" });
document.head.append(css);

// ---- the switcher, in the sidebar ----
const select = /** @type {HTMLSelectElement} */ (el("select", { id: "ws-select" }));
const openButton = el("button", {
  type: "button",
  id: "ws-open",
  "aria-haspopup": "dialog",
  text: "Workspace…",
});
const switcher = el("div", { id: "ws-switcher" }, [
  el("label", { for: "ws-select", class: "ws-switch-label", text: "Workspace" }),
  select,
  openButton,
]);
chatPage.panels.append(switcher);

// ---- the panel ----
const status = el("p", { id: "ws-status", role: "status", "aria-live": "polite" });
/** @param {string} text */
const say = (text) => {
  status.textContent = text;
};
const field = (/** @type {string} */ id, /** @type {string} */ label, /** @type {HTMLElement} */ input) => {
  input.id = id;
  return el("div", { class: "ws-field" }, [el("label", { for: id, text: label }), input]);
};
const nameInput = /** @type {HTMLInputElement} */ (el("input", { maxlength: "100", required: "" }));
const promptInput = /** @type {HTMLTextAreaElement} */ (el("textarea", { rows: "4", maxlength: "20000" }));
const urlInput = /** @type {HTMLInputElement} */ (
  el("input", { type: "url", placeholder: "the gateway's agent" })
);
const modelInput = /** @type {HTMLInputElement} */ (
  el("input", { maxlength: "200", placeholder: "the gateway's model" })
);
const settings = el("form", { class: "ws-settings" }, [
  field("ws-name", "Name", nameInput),
  field("ws-prompt", "System prompt", promptInput),
  field("ws-agent", "Agent URL (OpenAI-compatible)", urlInput),
  field("ws-model", "Model", modelInput),
  el("div", { class: "ws-row" }, [
    el("button", { type: "submit", text: "Save" }),
    el("button", { type: "button", id: "ws-delete", class: "danger", text: "Delete workspace" }),
  ]),
]);
const chatButtons = el("div", { class: "ws-row" }, [
  el("button", { type: "button", id: "ws-new-chat", text: "New chat in this workspace" }),
  el("button", { type: "button", id: "ws-move-chat", text: "Move this chat here" }),
]);
const meter = /** @type {HTMLMeterElement} */ (el("meter", { id: "ws-budget-meter", min: "0" }));
const budgetText = el("span", { id: "ws-budget-text" });
const budget = el("div", { class: "ws-budget" }, [
  el("label", { for: "ws-budget-meter", text: "Standing context" }),
  meter,
  budgetText,
]);
const fileInput = /** @type {HTMLInputElement} */ (
  el("input", { type: "file", id: "ws-file", class: "visually-hidden" })
);
const files = el("ul", { class: "ws-files", "aria-label": "Workspace files" });
const preview = el("pre", { class: "ws-preview", hidden: "", tabindex: "0", "aria-label": "File preview" });
const memoryRoot = el("section", { class: "ws-memory", "aria-labelledby": "mem-heading" });
const title = el("h2", { id: "ws-title", text: "Workspace" });
const closeButton = el("button", { type: "button", class: "ws-close", "aria-label": "Close", text: "×" });
const dialog = /** @type {HTMLDialogElement} */ (
  el("dialog", { id: "ws-dialog", "aria-labelledby": "ws-title" }, [
    el("div", { class: "ws-head" }, [title, closeButton]),
    status,
    settings,
    chatButtons,
    el("section", { class: "ws-files-section", "aria-labelledby": "ws-files-heading" }, [
      el("h3", { id: "ws-files-heading", text: "Files" }),
      budget,
      el("div", { class: "ws-row" }, [
        fileInput,
        el("label", { for: "ws-file", class: "button", text: "Upload a file" }),
      ]),
      files,
      preview,
    ]),
    memoryRoot,
  ])
);
document.body.append(dialog);
const memory = memoryPanel(memoryRoot, api, say);

/** @type {Workspace[]} */
let workspaces = [];
/** @type {string | null} */
let selected = localStorage.getItem(STORE_KEY);

async function loadList() {
  workspaces = (await api("GET", "/api/workspaces")).workspaces;
  if (selected && !workspaces.some((w) => w.id === selected)) selected = null;
  select.replaceChildren(
    el("option", { value: "", text: "No workspace" }),
    ...workspaces.map((w) => el("option", { value: w.id, text: w.name })),
    el("option", { value: "+new", text: "New workspace…" }),
  );
  select.value = selected ?? "";
  openButton.hidden = !selected;
}

/** @param {string | null} id */
function choose(id) {
  selected = id;
  if (id) localStorage.setItem(STORE_KEY, id);
  else localStorage.removeItem(STORE_KEY);
  select.value = id ?? "";
  openButton.hidden = !id;
}

/** @param {Budget} b */
function showBudget(b) {
  meter.max = b.budgetTokens;
  meter.value = b.usedTokens;
  const cut = b.files.filter((f) => f.cut).map((f) => f.name);
  budgetText.textContent = `${b.usedTokens} of ${b.budgetTokens} tokens${cut.length ? ` (cut to fit: ${cut.join(", ")})` : ""}`;
}

async function loadFiles() {
  if (!selected) return;
  const base = `/api/workspaces/${selected}/files`;
  /** @type {{ files: WsFile[]; usedBytes: number; quotaBytes: number; budget: Budget }} */
  const r = await api("GET", base);
  showBudget(r.budget);
  files.replaceChildren(
    ...r.files.map((f) => {
      const pin = /** @type {HTMLInputElement} */ (el("input", { type: "checkbox", id: `pin-${f.id}` }));
      pin.checked = f.pinned;
      pin.disabled = !f.textChars;
      pin.onchange = () =>
        api("PATCH", `${base}/${f.id}`, { pinned: pin.checked })
          .then(() => loadFiles())
          .then(() => say(pin.checked ? `${f.name} is pinned as standing context` : `${f.name} is unpinned`))
          .catch((e) => say(e.message));
      const button = (/** @type {string} */ text, /** @type {() => Promise<void>} */ fn) => {
        const b = el("button", { type: "button", text, "aria-label": `${text} ${f.name}` });
        b.onclick = () => fn().catch((e) => say(e.message));
        return b;
      };
      return el("li", { "data-file": f.id }, [
        el("span", { class: "ws-file-name", text: f.name }),
        el("small", { text: `${size(f.size)}${f.textChars ? `, ~${f.tokens} tokens` : ", no text"}` }),
        el("span", { class: "ws-pin" }, [pin, el("label", { for: pin.id, text: "Pin" })]),
        button("Preview", async () => {
          const p = await api("GET", `${base}/${f.id}`);
          preview.hidden = false;
          preview.textContent = p.preview ?? p.note;
        }),
        button("Attach", async () => attach(f, `${base}/${f.id}/content`)),
        button("Delete", async () => {
          if (!confirm(`Delete ${f.name} from this workspace?`)) return;
          await api("DELETE", `${base}/${f.id}`);
          await loadFiles();
          say(`${f.name} deleted`);
        }),
      ]);
    }),
  );
}

/** Puts the file into the chat's composer, as if it had been chosen with the Attach button. */
async function attach(/** @type {WsFile} */ f, /** @type {string} */ url) {
  const res = await fetch(url, { headers: authHeaders });
  if (!res.ok) throw new Error(`could not read ${f.name} (HTTP ${res.status})`);
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById("file"));
  if (!input) throw new Error("the chat page has no file input to attach to");
  const dt = new DataTransfer();
  dt.items.add(new File([await res.blob()], f.name, { type: f.mime }));
  input.files = dt.files;
  input.dispatchEvent(new Event("change"));
  dialog.close();
  document.getElementById("input")?.focus();
}

async function openPanel() {
  const ws = workspaces.find((w) => w.id === selected);
  if (!ws) return;
  title.textContent = ws.name;
  nameInput.value = ws.name;
  promptInput.value = ws.systemPrompt ?? "";
  urlInput.value = ws.agentUrl ?? "";
  modelInput.value = ws.model ?? "";
  preview.hidden = true;
  say("");
  if (!dialog.open) dialog.showModal();
  await Promise.all([loadFiles(), memory.show(ws.id)]);
}

/** Opens a thread by its id: the chat page picks the thread named in the address when it loads. */
function go(/** @type {string} */ thread) {
  location.hash = thread;
  location.reload();
}

select.onchange = async () => {
  if (select.value === "+new") {
    const name = prompt("Name of the new workspace");
    if (!name?.trim()) return choose(selected);
    const ws = await api("POST", "/api/workspaces", { name: name.trim() });
    await loadList();
    choose(ws.id);
    return openPanel();
  }
  choose(select.value || null);
};
openButton.onclick = () => openPanel().catch((e) => say(e.message));
closeButton.onclick = () => dialog.close();
settings.addEventListener("submit", (e) => {
  e.preventDefault();
  api("PATCH", `/api/workspaces/${selected}`, {
    name: nameInput.value,
    systemPrompt: promptInput.value,
    agentUrl: urlInput.value,
    model: modelInput.value,
  })
    .then(async (ws) => {
      showBudget(ws.budget);
      title.textContent = ws.name;
      await loadList();
      say("Saved");
    })
    .catch((err) => say(err.message));
});
/** @type {HTMLElement} */ (settings.querySelector("#ws-delete")).onclick = async () => {
  const ws = workspaces.find((w) => w.id === selected);
  if (
    !ws ||
    !confirm(`Delete the workspace ${ws.name} with its chats, files and memories? This cannot be undone.`)
  )
    return;
  await api("DELETE", `/api/workspaces/${ws.id}`).catch((e) => say(e.message));
  dialog.close();
  choose(null);
  location.hash = "";
  location.reload();
};
/** @type {HTMLElement} */ (chatButtons.querySelector("#ws-new-chat")).onclick = () =>
  api("POST", `/api/workspaces/${selected}/threads`, {})
    .then((t) => go(t.id))
    .catch((e) => say(e.message));
/** @type {HTMLElement} */ (chatButtons.querySelector("#ws-move-chat")).onclick = () => {
  const thread = currentThread();
  if (!thread) return say("Open a chat first, then move it here.");
  api("PUT", `/api/workspaces/${selected}/threads/${thread}`)
    .then(() => say("This chat now uses the workspace's agent, prompt, files and memory."))
    .catch((e) => say(e.message));
};
fileInput.addEventListener("change", async () => {
  const file = fileInput.files?.[0];
  fileInput.value = "";
  if (!file || !selected) return;
  const form = new FormData();
  form.append("file", file, file.name);
  say(`Uploading ${file.name}…`);
  const res = await fetch(`/api/workspaces/${selected}/files`, {
    method: "POST",
    headers: { ...authHeaders, "x-clawgate-upload": "1" },
    body: form,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) return say(json.error || `HTTP ${res.status}`);
  await loadFiles();
  say(
    `${file.name} uploaded${json.textChars ? "" : " (no text could be read from it, so it cannot be pinned)"}`,
  );
});

// The open chat's workspace, when it has one, becomes the selected one.
async function followThread() {
  const thread = currentThread();
  if (!thread) return;
  const { workspaceId } = await api("GET", `/api/threads/${thread}/workspace`).catch(() => ({
    workspaceId: null,
  }));
  if (workspaceId && workspaceId !== selected) choose(workspaceId);
}
const threadsNav = document.getElementById("threads");
if (threadsNav)
  new MutationObserver(() => followThread()).observe(threadsNav, {
    subtree: true,
    attributes: true,
    attributeFilter: ["class"],
  });

// A reply proposing a memory refreshes the panel's proposals.
const messages = document.getElementById("messages");
if (messages)
  new MutationObserver(() => {
    if (dialog.open && selected && messages.textContent?.includes("Proposed memory:"))
      memory.refresh().catch(() => {});
  }).observe(messages, { childList: true, subtree: true });

loadList()
  .then(followThread)
  .catch((e) => say(e.message));
