// GET <media path>/<token>: serves a published file while its link is valid. 403 for a link that was not signed
// by us (tampered, truncated), 410 once it expired or the file was swept.

import type { WebhookRoute } from "../channels/types.ts";
import { sendError } from "../http/respond.ts";
import { servingHeaders } from "./content-type.ts";
import { verifyMediaToken } from "./signer.ts";
import type { MediaStore } from "./store.ts";

export function mediaRoute(path: string, key: Buffer, files: MediaStore): WebhookRoute {
  return {
    method: "GET",
    path,
    prefix: true,
    kind: "media",
    handler: async (_req, res, { params }) => {
      // A trailing "/<name>" after the token is allowed (some clients like a file name in the URL).
      const token = (params["*"] ?? "").split("/")[0] ?? "";
      const check = verifyMediaToken(key, token);
      if (!check.ok) {
        if (check.reason === "expired") return sendError(res, 410, "this media link has expired");
        return sendError(res, 403, "invalid media link");
      }
      const bytes = (await files.read(check.claim.file))?.bytes;
      if (!bytes) return sendError(res, 410, "this media is no longer available");
      const maxAge = Math.max(0, check.claim.expiresAt - Math.floor(Date.now() / 1000));
      res.writeHead(200, {
        ...servingHeaders(check.claim.mime, check.claim.name),
        "content-length": bytes.length,
        "cache-control": `private, max-age=${maxAge}`,
        "referrer-policy": "no-referrer",
      });
      res.end(bytes);
    },
  };
}
