// @ts-check
// Keyboard shortcuts, listed in the help dialog (index.html #help, opened with ? or the ? button):
//   Enter send · Shift+Enter new line (in the message box) · Esc stop the answer being written
//   / search conversations · Alt+Shift+N new chat · Alt+Shift+R regenerate the last answer
//   ↑ in an empty message box: edit your last message · ? this help

/** Whether the key press is typing into a field (single-key shortcuts then do nothing). @param {EventTarget | null} t */
const typing = (t) =>
  t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

/**
 * @param {{
 *   input: HTMLTextAreaElement; search: HTMLInputElement; help: HTMLDialogElement; helpButton: HTMLElement;
 *   stop: () => boolean; newChat: () => void; regenerate: () => void; editLast: () => boolean;
 * }} o
 */
export function installShortcuts(o) {
  o.helpButton.addEventListener("click", () => o.help.showModal());
  o.input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" && !o.input.value && !e.shiftKey && o.editLast()) e.preventDefault();
  });
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    if (e.key === "Escape" && !o.help.open) {
      if (o.stop()) e.preventDefault();
      return;
    }
    if (e.altKey && e.shiftKey && !e.ctrlKey && !e.metaKey) {
      if (e.code === "KeyN") {
        e.preventDefault();
        o.newChat();
      } else if (e.code === "KeyR") {
        e.preventDefault();
        o.regenerate();
      }
      return;
    }
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/") {
      e.preventDefault();
      o.search.focus();
    } else if (e.key === "?") {
      e.preventDefault();
      o.help.showModal();
    }
  });
}
