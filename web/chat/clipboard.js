// @ts-check
// Copying text: the Clipboard API where the page is a secure context (https, localhost), else the older
// selection-based copy (a gateway opened by its LAN address over http). The button says whether it worked.

/** @param {string} text @param {HTMLButtonElement} [button] shows "Copied" for a moment */
export async function copyText(text, button) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    } else {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.append(area);
      area.select();
      ok = document.execCommand("copy");
      area.remove();
    }
  } catch {
    ok = false;
  }
  if (button) {
    const label = button.textContent;
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  }
  return ok;
}
