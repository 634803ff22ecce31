// @ts-check
// The memory panel of a workspace (docs/webchat-api.md, "Memory"): the facts the agent is given, the ones it
// proposed waiting for a yes or no, and a box to add one. `/remember <fact>` in a chat does the same as the box.

/**
 * @typedef {{ id: string; text: string; source: "user" | "agent"; state: "saved" | "proposed"; createdAt: number }} Memory
 * @typedef {(method: string, path: string, body?: unknown) => Promise<any>} Api
 */

/**
 * @param {HTMLElement} root where the panel is drawn
 * @param {Api} api
 * @param {(text: string) => void} say status messages (announced to screen readers)
 */
export function memoryPanel(root, api, say) {
  /** @type {string | null} */
  let workspace = null;
  const heading = document.createElement("h3");
  heading.textContent = "Memory";
  heading.id = "mem-heading";
  const proposals = document.createElement("ul");
  proposals.className = "mem-list proposals";
  proposals.setAttribute("aria-label", "Memories the assistant proposed");
  const saved = document.createElement("ul");
  saved.className = "mem-list";
  saved.setAttribute("aria-label", "Saved memories");
  const form = document.createElement("form");
  form.className = "mem-add";
  const input = document.createElement("input");
  input.id = "mem-input";
  input.maxLength = 500;
  input.placeholder = "A fact to remember, e.g. I prefer metric units";
  const label = document.createElement("label");
  label.htmlFor = input.id;
  label.className = "visually-hidden";
  label.textContent = "New memory";
  const add = document.createElement("button");
  add.type = "submit";
  add.textContent = "Remember";
  form.append(label, input, add);
  root.append(heading, proposals, saved, form);

  /** @param {string} text @param {{ label: string; onClick: () => Promise<void> }[]} actions */
  function item(text, actions) {
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = text;
    li.append(span);
    for (const a of actions) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = a.label;
      b.setAttribute("aria-label", `${a.label}: ${text}`);
      b.onclick = () => a.onClick().catch((/** @type {Error} */ e) => say(e.message));
      li.append(b);
    }
    return li;
  }

  async function refresh() {
    if (!workspace) {
      proposals.replaceChildren();
      saved.replaceChildren();
      return 0;
    }
    /** @type {{ memories: Memory[] }} */
    const { memories } = await api("GET", `/api/workspaces/${workspace}/memories`);
    const base = `/api/workspaces/${workspace}/memories`;
    const waiting = memories.filter((m) => m.state === "proposed");
    /** @param {string} method @param {string} path @param {string} done */
    const act = (method, path, done) => async () => {
      await api(method, path);
      await refresh();
      say(done);
    };
    proposals.replaceChildren(
      ...waiting.map((m) =>
        item(`Proposed: ${m.text}`, [
          { label: "Keep", onClick: act("POST", `${base}/${m.id}/confirm`, "Memory kept") },
          { label: "Dismiss", onClick: act("DELETE", `${base}/${m.id}`, "Proposal dismissed") },
        ]),
      ),
    );
    const kept = memories.filter((m) => m.state === "saved");
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "Nothing remembered yet.";
    saved.replaceChildren(
      ...(kept.length
        ? kept.map((m) =>
            item(m.text, [
              { label: "Forget", onClick: act("DELETE", `${base}/${m.id}`, "Memory forgotten") },
            ]),
          )
        : [empty]),
    );
    return waiting.length;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !workspace) return;
    api("POST", `/api/workspaces/${workspace}/memories`, { text })
      .then(() => {
        input.value = "";
        say("Remembered");
        return refresh();
      })
      .catch((/** @type {Error} */ err) => say(err.message));
  });

  return {
    /** @param {string | null} id */
    show(id) {
      workspace = id;
      form.hidden = !id;
      return refresh();
    },
    refresh,
  };
}
