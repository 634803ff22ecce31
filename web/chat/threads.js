// @ts-check
// The conversation list: search (over titles and messages, on the server), open, rename in place, delete.
/** @typedef {import("../../src/channels/webchat/frames.ts").ApiThread} ApiThread */
import { api } from "./net.js";

/**
 * @param {{
 *   nav: HTMLElement; search: HTMLInputElement; current: () => string | null;
 *   open: (id: string) => void; remove: (t: ApiThread) => void; fail: (message: string) => void;
 * }} o
 */
export function threadList(o) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  o.search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => load().catch((e) => o.fail(e.message)), 200);
  });
  o.search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && o.search.value) {
      e.stopPropagation();
      o.search.value = "";
      load().catch((err) => o.fail(err.message));
    }
  });

  /** @returns {Promise<ApiThread[]>} the threads shown (those matching the search, if any) */
  async function load() {
    const q = o.search.value.trim();
    /** @type {{ threads: ApiThread[] }} */
    const { threads } = await api("GET", `/api/threads${q ? `?q=${encodeURIComponent(q)}` : ""}`);
    o.nav.replaceChildren(...threads.map(row));
    if (q && !threads.length) {
      const none = document.createElement("p");
      none.className = "no-match";
      none.textContent = `No conversation mentions "${q}".`;
      o.nav.append(none);
    }
    return threads;
  }

  /** @param {ApiThread} t */
  function row(t) {
    const name = t.title || "New chat";
    const b = document.createElement("button");
    b.type = "button";
    b.className = `thread${t.id === o.current() ? " active" : ""}`;
    b.dataset.id = t.id;
    if (t.id === o.current()) b.setAttribute("aria-current", "true");
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = name;
    b.title = name;
    const small = document.createElement("small");
    small.textContent = t.lastMessage || "";
    b.append(title, small);
    b.onclick = () => o.open(t.id);
    const rename = tool("rename", "✎", `Rename "${name}"`, () => renameIn(r, t));
    const del = tool("delete", "×", `Delete "${name}"`, () => o.remove(t));
    const r = document.createElement("div");
    r.className = "thread-row";
    r.append(b, rename, del);
    return r;
  }

  /** A title edited in place: Enter saves, Escape (or leaving the field unchanged) cancels. */
  /** @param {HTMLElement} r @param {ApiThread} t */
  function renameIn(r, t) {
    const input = document.createElement("input");
    input.className = "rename-input";
    input.value = t.title || "";
    input.maxLength = 200;
    input.setAttribute("aria-label", "New name for the conversation");
    let done = false;
    const finish = (/** @type {boolean} */ save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (!save || title === (t.title || "")) return void load().catch(() => {});
      api("PATCH", `/api/threads/${t.id}`, { title })
        .then(() => load())
        .catch((e) => o.fail(e.message));
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") {
        e.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
    r.replaceChildren(input);
    input.focus();
    input.select();
  }

  return { load };
}

/** @param {string} cls @param {string} glyph @param {string} label @param {() => void} act */
function tool(cls, glyph, label, act) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `tool ${cls}`;
  b.textContent = glyph;
  b.title = label;
  b.setAttribute("aria-label", label);
  b.onclick = act;
  return b;
}
