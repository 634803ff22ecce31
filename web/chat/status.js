// @ts-check
// The page's three status lines (index.html): the connection to the gateway, errors from what the user did, and
// short acknowledgements.

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Errors from actions the user took (sending, buttons). Cleared by the next success. @param {string} text */
export function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

/** The connection to the gateway: hidden while connected. @param {string} text */
export function connection(text) {
  $("connection").hidden = !text;
  $("connection").textContent = text || "";
  document.body.classList.toggle("offline", Boolean(text));
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;
/** A short acknowledgement (of a button press) that disappears by itself. @param {string} text */
export function toast(text) {
  $("toast").textContent = text;
  $("toast").hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    $("toast").hidden = true;
  }, 4000);
}
