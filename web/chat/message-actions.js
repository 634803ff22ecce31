// @ts-check
// The small toolbar under a message: Copy (any message), Edit (a message you sent, once stored) and Regenerate
// (the last answer). Editing happens in place: the message becomes a text box with Send and Cancel.
import { copyText } from "./clipboard.js";

/**
 * @param {HTMLElement} bubble the .msg element; `content` on it is the message's text
 * @param {{ edit?: (text: string) => Promise<void>; regenerate?: () => void }} acts
 */
export function addActions(bubble, acts) {
  bubble.querySelector(":scope > .actions")?.remove();
  const bar = document.createElement("div");
  bar.className = "actions";
  const text = () => /** @type {HTMLElement & { content?: string }} */ (bubble).content ?? "";
  const copy = button("Copy", "Copy message", () => copyText(text(), copy));
  bar.append(copy);
  const { edit, regenerate } = acts;
  if (edit)
    bar.append(button("Edit", "Edit and resend this message", () => editInPlace(bubble, text(), edit)));
  if (regenerate) {
    const again = button("Regenerate", "Regenerate this answer", regenerate);
    again.classList.add("regenerate");
    bar.append(again);
  }
  bubble.append(bar);
}

/** @param {string} label @param {string} aria @param {() => unknown} act */
function button(label, aria, act) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.onclick = () => act();
  return b;
}

/** @param {HTMLElement} bubble @param {string} text @param {(text: string) => Promise<void>} edit */
export function editInPlace(bubble, text, edit) {
  if (bubble.querySelector(".edit-form")) return;
  const form = document.createElement("form");
  form.className = "edit-form";
  const area = document.createElement("textarea");
  area.value = text;
  area.rows = Math.min(8, text.split("\n").length + 1);
  area.setAttribute("aria-label", "Edit your message");
  const note = document.createElement("p");
  note.className = "edit-note";
  note.textContent = "Sending replaces this message and everything after it.";
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = "Send";
  const cancel = button("Cancel", "Cancel editing", () => close());
  form.append(area, note, send, cancel);
  const shown = [...bubble.children].filter((el) => el !== form);
  for (const el of shown) /** @type {HTMLElement} */ (el).hidden = true;
  bubble.classList.add("editing");
  bubble.append(form);
  const close = () => {
    form.remove();
    bubble.classList.remove("editing");
    for (const el of shown) /** @type {HTMLElement} */ (el).hidden = false;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!area.value.trim()) return;
    send.disabled = true;
    edit(area.value).then(close, () => {
      send.disabled = false;
    });
  });
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      close();
    } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  area.focus();
}
