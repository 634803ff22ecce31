// The web chat page's own files and the browser libraries it uses (Markdown, sanitizing, highlighting), served
// from the installed packages: no CDN, and the versions are the ones package-lock.json pins. The page maps bare
// names to these paths with an inline import map, which the CSP admits by its hash.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import type { WebhookRoute } from "../types.ts";

/** Languages highlighted in code blocks; others are shown plain. Aliases (js, ts, sh, html…) come with them. */
export const HIGHLIGHT_LANGUAGES = [
  "bash",
  "c",
  "cpp",
  "css",
  "diff",
  "go",
  "java",
  "javascript",
  "json",
  "markdown",
  "python",
  "rust",
  "shell",
  "sql",
  "typescript",
  "xml",
  "yaml",
];

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const pkg = (specifier: string) => fileURLToPath(import.meta.resolve(specifier));
const HLJS_ES_CORE = pkg("highlight.js/lib/core");

/** path → [file, content type, wrap]. highlight.js's core is CommonJS even under es/: it is wrapped as a module. */
const VENDOR: Record<string, [string, string, boolean?]> = {
  "/assets/vendor/marked.js": [pkg("marked"), JS],
  "/assets/vendor/purify.js": [pkg("dompurify"), JS],
  "/assets/vendor/highlight/core.js": [
    fileURLToPath(new URL("../lib/core.js", `file://${HLJS_ES_CORE}`)),
    JS,
    true,
  ],
  "/assets/vendor/highlight/github.css": [pkg("highlight.js/styles/github.css"), CSS],
  "/assets/vendor/highlight/github-dark.css": [pkg("highlight.js/styles/github-dark.css"), CSS],
};
for (const lang of HIGHLIGHT_LANGUAGES) {
  VENDOR[`/assets/vendor/highlight/languages/${lang}`] = [pkg(`highlight.js/lib/languages/${lang}`), JS];
}

const CHAT_DIR = fileURLToPath(new URL("../../../web/chat/", import.meta.url));
const CHAT_MODULE = /^[a-z0-9-]{1,40}\.js$/;

/** The CSP of the page: own files only, plus the page's inline import map by its hash. */
export function pageCsp(html: string): string {
  const maps = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'`,
  );
  return [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self'",
    `script-src 'self'${maps.map((h) => ` ${h}`).join("")}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function serve(res: ServerResponse, body: Buffer | string, type: string, cache: string) {
  res.writeHead(200, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "x-content-type-options": "nosniff",
    "cache-control": cache,
  });
  res.end(body);
}

export function assetRoutes(): WebhookRoute[] {
  const routes: WebhookRoute[] = Object.entries(VENDOR).map(([path, [file, type, wrap]]) => {
    // Read once: package files change only with a reinstall (a restart).
    const raw = readFileSync(file, "utf8");
    const body = wrap ? `const module = { exports: {} };\n${raw}\nexport default module.exports;\n` : raw;
    return {
      method: "GET" as const,
      path,
      kind: "webchat" as const,
      handler: (_req: IncomingMessage, res: ServerResponse) => serve(res, body, type, "public, max-age=3600"),
    };
  });
  routes.push({
    method: "GET",
    path: "/assets/chat/:file",
    kind: "webchat",
    handler: (_req, res, { params }) => {
      const file = params.file ?? "";
      if (!CHAT_MODULE.test(file) || !existsSync(CHAT_DIR + file)) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        res.end("no such file");
        return;
      }
      // Read per request, as the page's other files: edits show without a restart.
      serve(res, readFileSync(CHAT_DIR + file), JS, "no-cache");
    },
  });
  return routes;
}
