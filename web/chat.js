// @ts-check
/**
 * @typedef {import("../src/channels/webchat/frames.ts").Frame} Frame
 * @typedef {import("../src/channels/webchat/frames.ts").ReplyFrame} ReplyFrame
 * @typedef {import("../src/channels/webchat/frames.ts").FrameMedia} FrameMedia
 * @typedef {import("../src/channels/webchat/frames.ts").ApiMessage} ApiMessage
 * @typedef {import("../src/channels/webchat/frames.ts").ApiMessagesPage} ApiMessagesPage
 * @typedef {import("../src/channels/webchat/frames.ts").ApiThread} ApiThread
 * @typedef {import("../src/channels/webchat/frames.ts").AttachmentName} AttachmentName
 * @typedef {import("./attachments.js").Upload} Upload
 * @typedef {import("../src/channels/types.ts").Button} Button
 * A message bubble, with what the page remembers about it.
 * @typedef {HTMLDivElement & {
 *   content?: string; matched?: boolean; streamText?: string; renderQueued?: boolean; uploads?: Upload[]
 * }} Bubble
 * @typedef {{ eventId?: string | null; media?: FrameMedia[]; buttons?: Button[] }} BubbleExtra
 */
// The web chat page: threads on the left, messages on the right, replies streamed over server-sent events.
// Plain browser JavaScript in small modules (chat/*.js), no build step; libraries come from the gateway
// (/assets/vendor/, see the import map in index.html). What people typed is set with textContent; answers are
// Markdown rendered and sanitized (chat/markdown.js). Files to send wait in the attachment tray
// (attachments.js) and go with the message as base64.
//
// The message list has two parts: committed messages from the store (in order, keyed by their id) and, after
// them, "live" bubbles — the user's messages not yet processed and replies still streaming. Committed messages
// are inserted before the first live bubble, so a slow reply never lands below a message sent after it.

import { attachmentTray, formatSize } from "./attachments.js";
import { listen as listenTo } from "./chat/live.js";
import { renderMarkdown } from "./chat/markdown.js";
import { addActions, editInPlace } from "./chat/message-actions.js";
import { api, HttpError, randomId } from "./chat/net.js";
import { installShortcuts } from "./chat/shortcuts.js";
import { banner, connection, toast } from "./chat/status.js";
import { threadList } from "./chat/threads.js";

// A token pasted into the address bar of an open page: start over with it.
addEventListener("hashchange", () => {
  if (new URLSearchParams(location.hash.slice(1)).has("token")) location.reload();
});

/** The page's own elements (index.html): always there. */
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const state = {
  /** @type {string | null} */
  thread: null,
  lastId: 0,
  /** @type {number | undefined} */
  lastGeneration: undefined,
  /** eventId → the bubble showing that reply while it streams
   * @type {Map<string, Bubble>} */
  streams: new Map(),
  /** @type {AbortController | null} */
  abort: null,
  /** refreshMessages calls run one after another so two catch-ups never render the same message twice */
  refreshing: Promise.resolve(),
  /** ids of reply events already placed in this thread
   * @type {Set<string>} */
  placed: new Set(),
  /** event ids of answers the user stopped: late deltas for them are dropped
   * @type {Set<string>} */
  stopped: new Set(),
};

// ---- threads ----

const threads = threadList({
  nav: $("threads"),
  search: /** @type {HTMLInputElement} */ ($("search")),
  current: () => state.thread,
  open: (id) => openThread(id).catch((e) => banner(e.message)),
  remove: (t) => deleteThread(t).catch((e) => banner(e.message)),
  fail: banner,
});
const loadThreads = threads.load;

// ---- rendering ----

/** @type {Record<string, string>} */
const ROLE_LABEL = { error: "Error", system: "Gateway", command: "" };

/** A message bubble. `role` is user | assistant | system | command | error; text is set as plain text. */
/** @param {string} role @param {string} text @param {BubbleExtra} [extra] */
function bubble(role, text, extra = {}) {
  /** @type {Bubble} */
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  if (role === "error") div.setAttribute("role", "alert");
  if (ROLE_LABEL[role]) {
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = ROLE_LABEL[role];
    div.append(label);
  }
  const body = document.createElement("div");
  body.className = "text";
  setText(body, role, text);
  div.append(body);
  div.content = text;
  if (extra.eventId) div.dataset.eventId = extra.eventId;
  decorate(div, extra);
  return div;
}

/** Answers (and the gateway's notes) are Markdown; what people typed is shown exactly as typed. */
/** @param {HTMLElement} el @param {string} role @param {string} text */
function setText(el, role, text) {
  if (role !== "assistant" && role !== "system") {
    el.textContent = text;
    return;
  }
  el.classList.add("md");
  renderMarkdown(el, text);
}
/** Images, files and buttons a message carried: pictures are shown, other files named. */
/** @param {HTMLElement} div @param {BubbleExtra} extra */
function decorate(div, extra) {
  for (const m of extra.media ?? []) {
    if (/^image\//.test(m.mime || "") && m.mime !== "image/svg+xml" && m.dataBase64) {
      const img = document.createElement("img");
      img.alt = m.caption || m.filename || "image";
      img.src = `data:${m.mime};base64,${m.dataBase64}`;
      div.append(img);
    } else if (m.filename) {
      div.append(fileChip(m.filename, m.dataBase64 ? Math.floor((m.dataBase64.length * 3) / 4) : undefined));
    }
  }
  if (extra.buttons?.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const btn of extra.buttons) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = btn.label;
      b.onclick = () =>
        api("POST", `/api/threads/${state.thread}/actions`, { value: btn.value })
          .then(() => banner(""))
          .catch((e) => banner(e.message));
      row.append(b);
    }
    div.append(row);
  }
}

/** A file shown by name (its contents are not displayed). @param {string} name @param {number} [size] */
function fileChip(name, size) {
  const chip = document.createElement("span");
  chip.className = "file-chip";
  chip.textContent = `${name}${size === undefined ? "" : ` (${formatSize(size)})`}`;
  return chip;
}

/** Files a message carried, by name only (another tab's message, a pending one). @param {AttachmentName[]} [names] */
function namedFiles(names) {
  return (names ?? []).map((a) => ({ mime: a.mime, filename: a.name }));
}

function nearBottom() {
  const el = $("messages");
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

/** Runs a DOM change and keeps the view at the bottom if it was there (never yanks a reader upwards). */
/**
 * @template T
 * @param {() => T} change
 */
function keepingScroll(change) {
  const stick = nearBottom();
  const result = change();
  if (stick) $("messages").scrollTop = $("messages").scrollHeight;
  return result;
}

function firstLive() {
  return $("messages").querySelector(":scope > .live");
}

/** @param {Bubble} el @param {Element} [after] */
function appendLive(el, after) {
  keepingScroll(() => {
    if (after?.isConnected) after.after(el);
    else $("messages").append(el);
  });
  el.classList.add("live");
  return el;
}

/** The live bubble of a message this page sent, found by event id or by the clientMessageId it ends with. */
/** @param {string} eventId @returns {Bubble | undefined} */
function pendingBubble(eventId) {
  for (const el of $("messages").querySelectorAll(/** @type {"div"} */ (":scope > .msg.live.outgoing"))) {
    if (el.dataset.eventId === eventId || eventId.endsWith(`:${el.dataset.clientId}`)) return el;
  }
  return undefined;
}

/** @param {ApiMessage} m */
function renderCommitted(m) {
  if ($("messages").querySelector(`:scope > [data-msg-id="${m.id}"]`)) return;
  keepingScroll(() => {
    // The live bubble this message replaces goes first, so it is never the insertion point.
    if (m.eventId && (m.role === "user" || m.role === "command")) pendingBubble(m.eventId)?.remove();
    if (m.eventId && m.role !== "user" && m.role !== "command") {
      state.streams.get(m.eventId)?.remove();
      state.streams.delete(m.eventId);
    }
    const insert = (/** @type {HTMLElement} */ el) => $("messages").insertBefore(el, firstLive());
    const gen = m.generation;
    if (state.lastGeneration !== undefined && gen !== undefined && gen !== state.lastGeneration) {
      const hr = document.createElement("div");
      hr.className = "divider";
      hr.textContent = "New conversation — the assistant does not see the messages above";
      insert(hr);
    }
    if (gen !== undefined) state.lastGeneration = gen;
    const el = bubble(m.role, m.content, { eventId: m.eventId, media: m.media });
    el.dataset.msgId = String(m.id);
    if (m.role === "user") addActions(el, { edit: (text) => editMessage(m.id, text) });
    else if (m.role === "assistant" || m.role === "error") addActions(el, { regenerate });
    else addActions(el, {});
    insert(el);
  });
  state.lastId = Math.max(state.lastId, m.id);
}

/**
 * Fetches what the store has after the last message shown: the catch-up after any gap. A reply event for a
 * message fetched here finds it by its id (placeReply).
 */
function refreshMessages() {
  const run = state.refreshing.then(async () => {
    const thread = state.thread;
    if (!thread) return;
    /** @type {ApiMessagesPage} */
    let page;
    do {
      page = await api("GET", `/api/threads/${thread}/messages?after=${state.lastId}`);
      if (thread !== state.thread) return; // the user switched threads meanwhile
      for (const m of page.messages) renderCommitted(m);
    } while (page.hasMore && page.messages.length > 0);
    const { pending } = page;
    for (const p of pending) {
      if (!p.text && !p.attachments?.length) continue;
      if (
        !pendingBubble(p.eventId) &&
        !$("messages").querySelector(`[data-event-id="${CSS.escape(p.eventId)}"]`)
      ) {
        const el = bubble("user", p.text, { eventId: p.eventId, media: namedFiles(p.attachments) });
        el.classList.add("pending", "outgoing");
        appendLive(el);
      }
    }
  });
  state.refreshing = run.catch(() => {});
  return run;
}

// ---- live updates ----

/** Opens the thread's event stream (chat/live.js), closing the previous one. @param {string} thread */
function listen(thread) {
  state.abort?.abort();
  const ctrl = new AbortController();
  state.abort = ctrl;
  return listenTo(thread, ctrl.signal, {
    status: connection,
    onFrame: handleFrame,
    // Anything committed while we were away (a restart, a network blip) arrives through this catch-up; events
    // from here on arrive on the stream that is already open.
    onOpen: () => {
      refreshMessages().catch((e) => banner(e.message));
      loadThreads().catch(() => {});
    },
  });
}

/** @param {Frame} ev */
function handleFrame(ev) {
  if (ev.type === "delta") {
    if (state.stopped.has(ev.eventId)) return;
    let el = state.streams.get(ev.eventId);
    if (!el) {
      // A late delta for a reply that is already committed must not resurrect a streaming bubble.
      if (
        $("messages").querySelector(
          `[data-msg-id][data-event-id="${CSS.escape(ev.eventId)}"]:not(.user):not(.command)`,
        )
      )
        return;
      el = bubble("assistant", "", { eventId: ev.eventId });
      el.classList.add("streaming");
      appendLive(el, pendingBubble(ev.eventId));
      state.streams.set(ev.eventId, el);
    }
    // Deltas are increments: `text` follows the first `offset` characters of the reply so far. One that starts
    // past what we have (frames we never saw) waits for the next full picture: a reconnect or the reply.
    const shown = el.streamText ?? "";
    const offset = Number.isInteger(ev.offset) ? ev.offset : 0;
    if (offset > shown.length || typeof ev.text !== "string") return;
    el.streamText = shown.slice(0, offset) + ev.text;
    // Rendering is the costly part: at most once per frame, with the latest text.
    if (!el.renderQueued) {
      el.renderQueued = true;
      requestAnimationFrame(() => {
        el.renderQueued = false;
        keepingScroll(() => {
          setText(/** @type {HTMLElement} */ (el.querySelector(".text")), "assistant", el.streamText ?? "");
        });
      });
    }
  } else if (ev.type === "accepted") {
    // Another tab (or an API client) sent a message to this thread.
    if (
      !pendingBubble(ev.eventId) &&
      !$("messages").querySelector(`[data-event-id="${CSS.escape(ev.eventId)}"]`)
    ) {
      const el = bubble("user", ev.text, { eventId: ev.eventId, media: namedFiles(ev.attachments) });
      el.classList.add("pending", "outgoing");
      appendLive(el);
    }
  } else if (ev.type === "toast") {
    toast(ev.text);
  } else if (ev.type === "stopped") {
    stopped(ev.eventId);
  } else if (ev.type === "truncated") {
    truncated(ev.fromId);
  } else if (ev.type === "reply") {
    refreshMessages()
      .then(() => {
        placeReply(ev);
      })
      .catch((e) => banner(e.message));
    loadThreads().catch(() => {});
  }
}

/**
 * Each reply event stands for one delivered message. History has the text of most of them, but buttons and
 * images exist only in the event, and a few replies (answers to button presses, refusals) are not in history at
 * all. A reply names the history row it shows (messageId) when it has one: that row gets the event's buttons and
 * images, whatever its text (two replies may well say the same). Without a row on the page, the reply is shown
 * from the event itself, under the row's id when it names one, so a later catch-up does not show it twice.
 * @param {ReplyFrame} ev
 */
function placeReply(ev) {
  if (ev.id) {
    if (state.placed.has(ev.id)) return; // the same delivery repeated after a gateway crash
    state.placed.add(ev.id);
  }
  const rowId = Number.isInteger(ev.messageId) ? ev.messageId : undefined;
  /** @type {Bubble | null} */
  const target =
    rowId === undefined ? null : $("messages").querySelector(`:scope > .msg[data-msg-id="${rowId}"]`);
  if (target) {
    if (target.matched) return;
    target.matched = true;
    // History may have brought the images already (kept for history): only the buttons are missing then.
    decorate(target, target.querySelector("img") ? { ...ev, media: [] } : ev);
    return;
  }
  // Pictures of an answer that its history row already shows (the web chat keeps them) are not shown twice.
  if (ev.eventId && ev.media?.length) {
    const sel = `:scope > .msg[data-msg-id][data-event-id="${CSS.escape(ev.eventId)}"] img`;
    const onPage = new Set([...$("messages").querySelectorAll(sel)].map((img) => img.getAttribute("src")));
    const media = ev.media.filter((m) => !onPage.has(`data:${m.mime};base64,${m.dataBase64}`));
    if (!ev.text && !ev.buttons?.length && !media.length) return;
    ev = { ...ev, media };
  }
  const role = ev.kind === "error" ? "error" : ev.kind === "notice" ? "system" : "assistant";
  const shown = bubble(role, ev.text, ev);
  shown.matched = true;
  if (rowId !== undefined) shown.dataset.msgId = String(rowId);
  keepingScroll(() => $("messages").insertBefore(shown, firstLive()));
}

/** The answer to `eventId` was stopped: what streamed stays on screen, marked, until the page is reloaded. */
/** @param {string} eventId */
function stopped(eventId) {
  state.stopped.add(eventId);
  const el = state.streams.get(eventId);
  state.streams.delete(eventId);
  if (el) el.classList.remove("streaming");
  // The question is now stored: fetched first, so it lands above the stopped answer, which then leaves the live
  // part of the list.
  refreshMessages()
    .then(() => {
      if (!el) return;
      el.classList.remove("live");
      el.classList.add("stopped");
      const note = document.createElement("p");
      note.className = "stopped-note";
      note.textContent = "Stopped. This partial answer is not kept.";
      el.append(note);
      updateBusy();
    })
    .catch((e) => banner(e.message));
}

/** History from message `fromId` on was replaced (an edit or a regenerate, from this page or another). */
/** @param {number} fromId */
function truncated(fromId) {
  const list = $("messages");
  const first = [...list.children].find(
    (el) => Number(/** @type {HTMLElement} */ (el).dataset.msgId) >= fromId,
  );
  if (first) {
    const gone = [first];
    for (let el = first.nextElementSibling; el; el = el.nextElementSibling)
      if (!el.classList.contains("live")) gone.push(el);
    for (const el of gone) el.remove();
  }
  const kept = [...list.querySelectorAll(/** @type {"div"} */ (":scope > [data-msg-id]"))].map((el) =>
    Number(el.dataset.msgId),
  );
  state.lastId = Math.max(0, ...kept.filter((id) => id < fromId));
  updateBusy();
}

/** Shows Stop while an answer is on its way, and marks the answer Regenerate applies to. */
function updateBusy() {
  const list = $("messages");
  const busy = Boolean(
    list.querySelector(":scope > .msg.streaming, :scope > .msg.live.outgoing:not(.failed)"),
  );
  $("stop").hidden = !busy;
  document.body.classList.toggle("busy", busy);
  for (const el of list.querySelectorAll(".last-answer")) el.classList.remove("last-answer");
  const answers = list.querySelectorAll(
    ":scope > .msg[data-msg-id].assistant, :scope > .msg[data-msg-id].error",
  );
  answers[answers.length - 1]?.classList.add("last-answer");
}
new MutationObserver(updateBusy).observe($("messages"), { childList: true });

/** Stops the answer being written in this thread; false when there is none (Esc then does nothing). */
function stop() {
  if (!state.thread || $("stop").hidden) return false;
  api("POST", `/api/threads/${state.thread}/stop`, {})
    .then((r) => {
      if (!r.stopped) toast("Nothing to stop yet: the answer has not started.");
    })
    .catch((e) => banner(e.message));
  return true;
}

function regenerate() {
  if (!state.thread) return;
  api("POST", `/api/threads/${state.thread}/regenerate`, {})
    .then(() => banner(""))
    .catch((e) => banner(e.message));
}

/** Replaces message `id` (and everything after it) with `text`, asked again. @param {number} id @param {string} text */
async function editMessage(id, text) {
  try {
    await api("POST", `/api/threads/${state.thread}/messages/${id}/edit`, { text });
    banner("");
  } catch (e) {
    banner(e instanceof Error ? e.message : String(e));
    throw e;
  }
}

/** Opens the last message you sent for editing (↑ in an empty message box). */
function editLast() {
  const mine = $("messages").querySelectorAll(/** @type {"div"} */ (":scope > .msg.user[data-msg-id]"));
  /** @type {Bubble | undefined} */
  const last = mine[mine.length - 1];
  if (!last) return false;
  editInPlace(last, last.content ?? "", (text) => editMessage(Number(last.dataset.msgId), text));
  return true;
}

// ---- actions ----

/** @param {string} id */
async function openThread(id) {
  state.thread = id;
  state.lastId = 0;
  state.lastGeneration = undefined;
  state.streams.clear();
  state.placed.clear();
  state.stopped.clear();
  $("messages").replaceChildren();
  history.replaceState(null, "", `#${id}`);
  for (const el of document.querySelectorAll(/** @type {"button"} */ (".thread")))
    el.classList.toggle("active", el.dataset.id === id);
  for (const el of document.querySelectorAll(".thread")) {
    if (el.getAttribute("data-id") === id) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
  }
  await Promise.all([listen(id), refreshMessages()]);
  $("input").focus();
}

/** @param {ApiThread} t */
async function deleteThread(t) {
  if (!confirm(`Delete "${t.title || "New chat"}" and its history? This cannot be undone.`)) return;
  await api("DELETE", `/api/threads/${t.id}`);
  if (state.thread === t.id) {
    state.abort?.abort();
    state.thread = null;
    $("messages").replaceChildren();
    history.replaceState(null, "", location.pathname);
  }
  const threads = await loadThreads();
  if (!state.thread && threads[0]) await openThread(threads[0].id);
}

async function newThread() {
  // The open thread is still empty: use it rather than leave a trail of empty "New chat" entries.
  if (state.thread && !$("messages").querySelector(".msg")) {
    $("input").focus();
    return;
  }
  const t = await api("POST", "/api/threads", {});
  state.thread = t.id;
  await loadThreads();
  await openThread(t.id);
}

/** @param {Bubble} el */
async function post(el) {
  el.classList.remove("failed");
  el.querySelector(".retry")?.remove();
  try {
    const r = await api("POST", `/api/threads/${el.dataset.thread}/messages`, {
      text: el.content,
      clientMessageId: el.dataset.clientId,
      ...(el.uploads?.length ? { attachments: el.uploads } : {}),
    });
    el.dataset.eventId = r.eventId;
    banner("");
  } catch (e) {
    if (e instanceof HttpError && e.status === 413 && el.uploads?.length) {
      // Too large to ever go through: the message goes back into the composer to be changed.
      el.remove();
      restore(el.content ?? "", el.uploads);
      banner(`Not sent: ${e.message}`);
      return;
    }
    // The text stays on the page. A retry reuses the clientMessageId, so it can never be sent twice.
    el.classList.add("failed");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.textContent = "Retry";
    retry.onclick = () => post(el);
    el.append(retry);
    banner(
      e instanceof HttpError
        ? `Not sent: ${e.message}`
        : "Not sent: the gateway could not be reached. Your message is kept — press Retry.",
    );
  }
  loadThreads().catch(() => {});
}

/** Puts a message that was refused back into the composer, its files back into the tray. */
/** @param {string} text @param {Upload[]} uploads */
function restore(text, uploads) {
  const input = /** @type {HTMLTextAreaElement} */ ($("input"));
  if (!input.value) input.value = text;
  tray.add(
    uploads.map((u) => {
      const bytes = Uint8Array.from(atob(u.dataBase64), (c) => c.charCodeAt(0));
      return new File([bytes], u.name, { type: u.mime });
    }),
  );
}

/** @param {string} text @param {Upload[]} [uploads] */
async function send(text, uploads = []) {
  if (!state.thread) await newThread();
  const el = bubble("user", text, {
    media: uploads.map((u) => ({ mime: u.mime, filename: u.name, dataBase64: u.dataBase64 })),
  });
  el.uploads = uploads;
  el.classList.add("pending", "outgoing");
  el.dataset.clientId = randomId();
  el.dataset.thread = /** @type {string} */ (state.thread); // newThread() set it or threw
  appendLive(el);
  $("messages").scrollTop = $("messages").scrollHeight;
  await post(el);
}

const tray = attachmentTray({
  list: $("attachments"),
  fileInput: /** @type {HTMLInputElement} */ ($("file")),
  textarea: /** @type {HTMLTextAreaElement} */ ($("input")),
  dropZone: document.querySelector("main") ?? document.body,
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = /** @type {HTMLTextAreaElement} */ ($("input"));
  const text = input.value;
  if (!text.trim() && !tray.count()) return;
  input.value = "";
  tray
    .take()
    .then((uploads) => send(text, uploads))
    .catch((err) => banner(`Not sent: ${err.message}`));
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    /** @type {HTMLFormElement} */ ($("composer")).requestSubmit();
  }
});
$("new-thread").onclick = () => newThread().catch((e) => banner(e.message));
$("stop").onclick = () => stop();
installShortcuts({
  input: /** @type {HTMLTextAreaElement} */ ($("input")),
  search: /** @type {HTMLInputElement} */ ($("search")),
  help: /** @type {HTMLDialogElement} */ ($("help")),
  helpButton: $("help-button"),
  stop,
  newChat: () => newThread().catch((e) => banner(e.message)),
  regenerate,
  editLast,
});

/**
 * For side panels in their own modules (workspaces, memory): `import { chatPage } from "./chat.js"` gets this
 * page's instance (a module runs once per page) and mounts into #panels (index.html).
 */
export const chatPage = {
  api,
  banner,
  toast,
  thread: () => state.thread,
  openThread,
  panels: $("panels"),
};

// ---- start ----

(async () => {
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    try {
      const threads = await loadThreads();
      connection("");
      const wanted = location.hash.slice(1);
      const pick = threads.find((t) => t.id === wanted) ?? threads[0];
      if (pick) await openThread(pick.id);
      else $("input").focus();
      return;
    } catch (e) {
      connection(
        e instanceof HttpError
          ? e.message
          : `Cannot reach the gateway (${e instanceof Error ? e.message : e}) — retrying…`,
      );
      if (e instanceof HttpError && e.status === 401) return;
    }
    await sleep(delay);
  }
})();

// With several gateway replicas, a reply committed by another replica is announced only on that replica's live
// stream. While the page is visible, look in the store every few seconds for anything committed since the last
// message shown. A live event for a message found this way finds its row by id (no twins).
const CATCH_UP_MS = 4000;
setInterval(() => {
  if (state.thread && document.visibilityState === "visible") refreshMessages().catch(() => {});
}, CATCH_UP_MS);
