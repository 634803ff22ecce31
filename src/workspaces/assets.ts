// The workspace and memory panels' browser files, served like the chat page's own (src/channels/webchat/api.ts).
import { readFileSync } from "node:fs";
import type { RouteRegistry } from "../gateway/host.ts";

const WEB_DIR = new URL("../../web/", import.meta.url);
const FILES: Record<string, [string, string]> = {
  "/assets/workspaces.js": ["workspaces.js", "text/javascript; charset=utf-8"],
  "/assets/memory.js": ["memory.js", "text/javascript; charset=utf-8"],
  "/assets/workspaces.css": ["workspaces.css", "text/css; charset=utf-8"],
};

export function assetRoutes(routes: RouteRegistry) {
  for (const [path, [file, type]] of Object.entries(FILES)) {
    routes.add(
      "GET",
      path,
      (_req, res) => {
        // Read per request: small files, and edits show without a restart.
        const body = readFileSync(new URL(file, WEB_DIR));
        res.writeHead(200, {
          "content-type": type,
          "content-length": body.length,
          "x-content-type-options": "nosniff",
          "cache-control": "no-cache",
        });
        res.end(body);
      },
      { kind: "webchat" },
    );
  }
}
