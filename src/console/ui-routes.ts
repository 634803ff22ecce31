// The console's page and assets: GET /console, /console/assets/<file> from web/console/, and the UI library
// (Preact, its hooks, htm) from the installed package under /console/assets/vendor/ — no CDN, no build step.
// The page's strict CSP allows scripts from this origin only; the one inline script, the import map that names
// the vendored modules, is allowed by its hash (Chromium checks import maps against script-src).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { sendError } from "../http/respond.ts";
import type { Router } from "../http/router.ts";

const WEB_DIR = fileURLToPath(new URL("../../web/console/", import.meta.url));
const require = createRequire(import.meta.url);

const JS = "text/javascript; charset=utf-8";
const ASSET = /^[a-z][a-z0-9-]{0,40}\.(js|css)$/;

/** The vendored modules, resolved from the installed packages (their own export maps, not guessed paths). */
function vendorFiles(): Record<string, string> {
  const preact = require.resolve("preact");
  return {
    "preact.js": preact.replace(/preact\.js$/, "preact.module.js"),
    "hooks.js": require.resolve("preact/hooks").replace(/hooks\.js$/, "hooks.module.js"),
    "htm.js": require.resolve("htm").replace(/htm\.js$/, "htm.module.js"),
  };
}

const IMPORT_MAP = /<script type="importmap">([\s\S]*?)<\/script>/;

/** The page's CSP, with the hash of its import map (read per request: edits show without a restart). */
export function pageCsp(html: string): string {
  const map = IMPORT_MAP.exec(html)?.[1] ?? "";
  const hash = createHash("sha256").update(map).digest("base64");
  return [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

function send(res: ServerResponse, body: Buffer, type: string, extra: Record<string, string> = {}) {
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
    "referrer-policy": "no-referrer",
    ...extra,
  });
  res.end(body);
}

export function registerConsoleUiRoutes(router: Router) {
  const vendor = vendorFiles();
  // The same rules as the web chat's page: the Host must be this listener's (no DNS rebinding).
  const opts = { kind: "webchat" as const };
  const page = (_req: IncomingMessage, res: ServerResponse) => {
    const html = readFileSync(`${WEB_DIR}index.html`);
    send(res, html, "text/html; charset=utf-8", {
      "content-security-policy": pageCsp(html.toString("utf8")),
      "x-frame-options": "DENY",
    });
  };
  router.add("GET", "/console", page, opts);
  router.add("GET", "/console/", page, opts);
  router.add(
    "GET",
    "/console/assets/vendor/:file",
    (_req, res, { params }) => {
      const path = vendor[params.file ?? ""];
      if (!path) return sendError(res, 404, `no vendored module ${params.file}`);
      send(res, readFileSync(path), JS);
    },
    opts,
  );
  router.add(
    "GET",
    "/console/assets/:file",
    (_req, res, { params }) => {
      const file = params.file ?? "";
      const m = ASSET.exec(file);
      if (!m) return sendError(res, 404, `no console asset ${file}`);
      let body: Buffer;
      try {
        body = readFileSync(WEB_DIR + file);
      } catch {
        return sendError(res, 404, `no console asset ${file}`);
      }
      send(res, body, m[1] === "js" ? JS : "text/css; charset=utf-8");
    },
    opts,
  );
}
