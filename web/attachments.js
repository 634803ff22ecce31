// @ts-check
// Files waiting to be sent with the next message: added with the Attach button (a labelled file input, so the
// keyboard and screen readers reach it), by pasting an image into the message box, or by dropping files onto
// the chat. Each shows a preview (a thumbnail for pictures, else the name) with a Remove button until sent.
// Names are set with textContent; thumbnails are blob: URLs of the user's own files.

/**
 * @typedef {{ name: string; mime: string; dataBase64: string }} Upload what the message API takes
 * @typedef {{ file: File; url?: string }} Pending
 */

/** @param {number} n */
export function formatSize(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {File} file @returns {Promise<string>} the file's bytes in base64 */
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

/**
 * @param {{ list: HTMLElement; fileInput: HTMLInputElement; textarea: HTMLTextAreaElement; dropZone: HTMLElement }} els
 */
export function attachmentTray(els) {
  /** @type {Pending[]} */
  let pending = [];

  function render() {
    els.list.replaceChildren();
    els.list.hidden = pending.length === 0;
    for (const p of pending) {
      const li = document.createElement("li");
      li.className = "attachment";
      if (p.url) {
        const img = document.createElement("img");
        img.src = p.url;
        img.alt = "";
        li.append(img);
      } else {
        const icon = document.createElement("span");
        icon.className = "file-icon";
        icon.setAttribute("aria-hidden", "true");
        // The extension stands in for a thumbnail (no icon font or emoji needed).
        icon.textContent = (/\.([a-z0-9]{1,4})$/i.exec(p.file.name)?.[1] ?? "file").toUpperCase();
        li.append(icon);
      }
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = `${p.file.name || "pasted image"} (${formatSize(p.file.size)})`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Remove ${p.file.name || "pasted image"}`);
      remove.title = remove.getAttribute("aria-label") ?? "";
      remove.onclick = () => {
        const at = pending.indexOf(p);
        removeAt(at);
        // Keep the keyboard in the tray: the next Remove button, else the message box.
        const buttons = els.list.querySelectorAll("button.remove");
        /** @type {HTMLElement} */ (buttons[Math.min(at, buttons.length - 1)] ?? els.textarea).focus();
      };
      li.append(name, remove);
      els.list.append(li);
    }
  }

  /** @param {number} at */
  function removeAt(at) {
    const [gone] = pending.splice(at, 1);
    if (gone?.url) URL.revokeObjectURL(gone.url);
    render();
  }

  /** @param {Iterable<File>} files */
  function add(files) {
    for (const file of files) {
      const url =
        /^image\//.test(file.type) && file.type !== "image/svg+xml" ? URL.createObjectURL(file) : undefined;
      pending.push({ file, url });
    }
    render();
  }

  els.fileInput.addEventListener("change", () => {
    add(els.fileInput.files ?? []);
    els.fileInput.value = ""; // choosing the same file again still adds it
  });
  els.textarea.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!files.length) return;
    // A copied picture comes with no text worth pasting (at most its file name).
    if (!e.clipboardData?.getData("text/plain")) e.preventDefault();
    add(files);
  });
  els.dropZone.addEventListener("dragover", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    els.dropZone.classList.add("dragging");
  });
  els.dropZone.addEventListener("dragleave", (e) => {
    if (e.target === els.dropZone || !els.dropZone.contains(/** @type {Node} */ (e.relatedTarget)))
      els.dropZone.classList.remove("dragging");
  });
  els.dropZone.addEventListener("drop", (e) => {
    els.dropZone.classList.remove("dragging");
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    add(e.dataTransfer.files);
    els.textarea.focus();
  });

  return {
    count: () => pending.length,
    add,
    /** The files as the API takes them; the tray is emptied. */
    async take() {
      const files = pending.map((p) => p.file);
      /** @type {Upload[]} */
      const uploads = [];
      for (const f of files) {
        uploads.push({
          name: f.name || `pasted.${(f.type.split("/")[1] || "bin").replace(/[^a-z0-9]/g, "")}`,
          mime: f.type || "application/octet-stream",
          dataBase64: await base64Of(f),
        });
      }
      for (const p of pending) if (p.url) URL.revokeObjectURL(p.url);
      pending = [];
      render();
      return uploads;
    },
  };
}
