// The console's shell: sign-in, the navigation (collapsible on narrow screens), hash routes to the pages, the
// status line every action reports to, and the live feed's connection state.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { ApprovalsPage } from "./approvals.js";
import { AuditPage } from "./audit.js";
import { ChannelsPage } from "./channels.js";
import { ConfigPage } from "./config.js";
import { ConversationsPage } from "./conversations.js";
import { DeadLettersPage } from "./dead-letters.js";
import { connect, disconnect, useConnection } from "./live.js";
import { OverviewPage } from "./overview.js";
import { PairingPage } from "./pairing.js";
import { SchedulesPage } from "./schedules.js";
import { SignIn } from "./sign-in.js";
import { announce, html, useAnnouncement } from "./ui.js";

const PAGES = [
  ["overview", "Overview", OverviewPage],
  ["channels", "Channels", ChannelsPage],
  ["conversations", "Conversations", ConversationsPage],
  ["dead-letters", "Dead letters", DeadLettersPage],
  ["approvals", "Approvals", ApprovalsPage],
  ["pairing", "Pairing", PairingPage],
  ["schedules", "Schedules", SchedulesPage],
  ["config", "Config", ConfigPage],
  ["audit", "Audit", AuditPage],
];

const routeOf = () => {
  const name = location.hash.replace(/^#\/?/, "");
  return PAGES.find((p) => p[0] === name) ?? PAGES[0];
};

function useRoute() {
  const [route, setRoute] = useState(routeOf);
  useEffect(() => {
    const on = () => setRoute(routeOf());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function StatusLine() {
  const msg = useAnnouncement();
  return html`<div id="status-line" class=${`status-line ${msg?.kind ?? ""}`} role="status" aria-live="polite">${msg?.text ?? ""}</div>`;
}

function Shell({ onSignOut }) {
  const [id, title, Page] = useRoute();
  const [open, setOpen] = useState(false);
  const connection = useConnection();
  const first = useRef(true);
  useEffect(() => {
    setOpen(false);
    announce(""); // an outcome belongs to the page it happened on
    document.title = `${title} · clawgate console`;
    // Keyboard and screen-reader users land on the new page's heading, not at the old link.
    if (!first.current) document.getElementById("page-title")?.focus();
    first.current = false;
  }, [id]);
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">clawgate<span class="brand-suffix"> console</span></span>
      <span class=${`conn ${connection}`}>${connection === "live" ? "Live" : connection === "reconnecting" ? "Reconnecting…" : "Connecting…"}</span>
      <button type="button" class="menu" aria-expanded=${open} aria-controls="nav" onClick=${() => setOpen(!open)}>Menu</button>
      <button type="button" class="signout" onClick=${onSignOut}>Sign out</button>
    </header>
    <div class="layout">
      <nav id="nav" class=${open ? "open" : ""} aria-label="Console pages" onClick=${() => setOpen(false)}
        onKeyDown=${(e) => e.key === "Escape" && setOpen(false)}>
        <ul>
          ${PAGES.map(([pid, label]) => html`<li><a href=${`#/${pid}`} aria-current=${pid === id ? "page" : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <main id="main">
        <${StatusLine} />
        <${Page} key=${id} />
      </main>
    </div>`;
}

function App() {
  const [session, setSession] = useState("checking");
  useEffect(() => {
    api("GET", "/console/api/session").then(
      () => setSession("in"),
      () => setSession("out"),
    );
    const out = () => {
      disconnect();
      setSession("out");
    };
    window.addEventListener("console:signed-out", out);
    return () => window.removeEventListener("console:signed-out", out);
  }, []);
  useEffect(() => {
    if (session === "in") connect();
  }, [session]);
  const signOut = async () => {
    await api("DELETE", "/console/api/session").catch(() => {});
    disconnect();
    setSession("out");
  };
  if (session === "checking") return html`<p class="loading">Loading the console…</p>`;
  if (session === "out") return html`<${SignIn} onSignedIn=${() => setSession("in")} />`;
  return html`<${Shell} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById("app"));
