// A workspace's files over HTTP (docs/webchat-api.md, "Files"): a multipart upload read as a stream with the
// size cap and the workspace quota enforced while it arrives, the bytes kept in the media store (so every
// replica serves them), the text extracted once at upload; list, preview, download, pin, delete.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config/schema.ts";
import type { RouteRegistry } from "../gateway/host.ts";
import { ClientGoneError } from "../http/body.ts";
import { sendError, sendJson } from "../http/respond.ts";
import { normalizeMime, servingHeaders } from "../media/content-type.ts";
import { textOfFile } from "../media/extract/text.ts";
import { sniffMime } from "../media/sniff.ts";
import { MediaStore } from "../media/store.ts";
import type { Store } from "../store/types.ts";
import type { WorkspaceFile } from "../store/workspace-rows.ts";
import { FILE_ID, jsonBody, type RouteKit } from "./http.ts";
import { MultipartError, multipartBoundary, readMultipart, safeFileName } from "./multipart.ts";
import type { WorkspaceContext } from "./workspace-context.ts";

const MB = 1024 * 1024;
/** Multipart framing around the file (boundaries, part headers, a few small fields). */
const ENVELOPE = 16 * 1024;
/** Workspace files do not expire: they go when they are deleted, or with their workspace (year 9999). */
const NEVER_SEC = 253_402_300_799;
const MAX_TEXT_CHARS = 500_000;
const PREVIEW_CHARS = 4000;
/**
 * Uploads read at once: an upload holds its file in memory until it is stored (up to workspaces.maxFileMb), and
 * streamed routes are outside the listener's body budget, so this is their budget.
 */
const MAX_READING = 4;
/** A header a cross-site HTML form cannot send: an upload is never a form another page submits for the user. */
export const UPLOAD_HEADER = "x-clawgate-upload";

export const mediaOwner = (workspaceId: string) => `workspace:${workspaceId}`;

function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string) {
  // The rest of the body is not read: close the connection once the answer is out.
  if (!req.complete) res.setHeader("connection", "close");
  sendError(res, status, error);
}

export function fileRoutes(
  routes: RouteRegistry,
  kit: RouteKit,
  store: Store,
  config: Config,
  context: WorkspaceContext,
  basePrompt: () => string | undefined,
) {
  const rows = store.workspaces;
  const media = new MediaStore(store);
  const maxFileBytes = Math.round(config.workspaces.maxFileMb * MB);
  const quotaBytes = Math.round(config.workspaces.quotaMb * MB);
  let reading = 0;
  // The text itself is for the agent and the preview route, not for every listing.
  const view = ({ text: _text, ...f }: WorkspaceFile & { text?: string | null }) => ({
    ...f,
    tokens: Math.ceil(f.textChars / 4),
  });

  routes.add(
    "POST",
    "/api/workspaces/:ws/files",
    kit.inWorkspace(async (req, res, { ws }) => {
      if (req.headers[UPLOAD_HEADER] !== "1")
        return refuse(req, res, 400, `send the header ${UPLOAD_HEADER}: 1 with an upload`);
      const boundary = multipartBoundary(req.headers["content-type"]);
      if (!boundary)
        return refuse(req, res, 415, 'send the file as multipart/form-data (a part named "file")');
      const declared = Number(req.headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxFileBytes + ENVELOPE)
        return refuse(
          req,
          res,
          413,
          `the file is larger than workspaces.maxFileMb (${config.workspaces.maxFileMb} MB)`,
        );
      const used = await rows.usedBytes(ws.id);
      const room = Math.min(maxFileBytes, quotaBytes - used);
      if (room <= 0 || (Number.isFinite(declared) && declared > room + ENVELOPE))
        return refuse(
          req,
          res,
          413,
          `the workspace is full: ${used} of ${quotaBytes} bytes used (workspaces.quotaMb); delete files first`,
        );
      if (reading >= MAX_READING) {
        res.setHeader("retry-after", "2");
        return refuse(req, res, 503, `${MAX_READING} uploads are being received already; retry in a moment`);
      }
      // Counted until the file is stored: until then its bytes are in memory.
      reading++;
      try {
        let parsed: Awaited<ReturnType<typeof readMultipart>>;
        if (/100-continue/i.test(req.headers.expect ?? "")) res.writeContinue();
        try {
          parsed = await readMultipart(req, boundary, {
            maxFileBytes: room,
            maxFiles: 1,
            maxFieldBytes: 1024,
            maxParts: 4,
          });
        } catch (err) {
          // A client that hangs up mid-upload is no failure of the gateway's (the server logs it at debug).
          if (req.destroyed && !(err instanceof MultipartError)) throw new ClientGoneError();
          if (!(err instanceof MultipartError)) throw err;
          const full = err.status === 413 && room < maxFileBytes;
          return refuse(
            req,
            res,
            err.status,
            full ? `the workspace has room for ${room} more bytes (workspaces.quotaMb)` : err.message,
          );
        }
        const file = parsed.files.find((f) => f.field === "file");
        if (!file) return sendError(res, 400, 'the upload has no part named "file"');
        const named = safeFileName(file.filename);
        if ("error" in named) return sendError(res, 400, named.error);
        if (!file.bytes.length) return sendError(res, 400, "the file is empty");
        const mime = sniffMime(file.bytes) ?? (normalizeMime(file.mime) || "application/octet-stream");
        const text = await textOfFile(file.bytes, { mime, name: named.name, maxChars: MAX_TEXT_CHARS }).catch(
          () => undefined,
        );
        const mediaId = await media.save(file.bytes, {
          mime,
          owner: mediaOwner(ws.id),
          name: named.name,
          expiresAtSec: NEVER_SEC,
        });
        const id = `f_${randomBytes(8).toString("hex")}`;
        await rows.addFile({
          id,
          workspaceId: ws.id,
          mediaId,
          name: named.name,
          mime,
          size: file.bytes.length,
          text: text?.text ?? null,
        });
        if (parsed.fields.pinned === "true") await rows.pinFile(ws.id, id, true);
        sendJson(res, 201, view((await rows.file(ws.id, id))!));
      } finally {
        reading--;
      }
    }),
    { streamBody: true },
  );

  routes.add(
    "GET",
    "/api/workspaces/:ws/files",
    kit.inWorkspace(async (_req, res, { ws }) => {
      const [files, used, { budget }] = await Promise.all([
        rows.files(ws.id),
        rows.usedBytes(ws.id),
        context.compose(ws, "", basePrompt()),
      ]);
      sendJson(res, 200, { files: files.map(view), usedBytes: used, quotaBytes, maxFileBytes, budget });
    }),
  );

  const withFile = (
    h: (res: ServerResponse, f: WorkspaceFile & { text: string | null }, body: Buffer) => Promise<void>,
  ) =>
    kit.inWorkspace(async (_req, res, { ws, params, body }) => {
      if (!FILE_ID.test(params.file ?? ""))
        return sendError(res, 400, "file id must look like f_ and 16 hex digits (from GET …/files)");
      const f = await rows.file(ws.id, params.file!);
      if (!f) return sendError(res, 404, `no file ${params.file} in workspace ${ws.id}`);
      return h(res, f, body);
    });

  routes.add(
    "GET",
    "/api/workspaces/:ws/files/:file",
    withFile(async (res, f) => {
      const { text, ...meta } = f;
      sendJson(res, 200, {
        ...view(meta),
        preview: text === null ? null : text.slice(0, PREVIEW_CHARS),
        previewCut: text !== null && text.length > PREVIEW_CHARS,
        ...(text === null
          ? { note: "no text could be read from this file (not text or a PDF with a text layer)" }
          : {}),
      });
    }),
  );
  routes.add(
    "GET",
    "/api/workspaces/:ws/files/:file/content",
    withFile(async (res, f) => {
      const m = await media.read(f.mediaId);
      if (!m) return sendError(res, 404, "the file's bytes are gone; delete it and upload it again");
      res.writeHead(200, {
        ...servingHeaders(m.mime, f.name),
        "content-length": m.bytes.length,
        "cache-control": "private, no-store",
      });
      res.end(m.bytes);
    }),
  );
  routes.add(
    "PATCH",
    "/api/workspaces/:ws/files/:file",
    withFile(async (res, f, body) => {
      const json = jsonBody(body, res);
      if (!json) return;
      if (typeof json.pinned !== "boolean")
        return sendError(res, 400, 'send {"pinned": true} or {"pinned": false}');
      if (json.pinned && !f.textChars)
        return sendError(
          res,
          400,
          `${f.name} has no text to pin; only files with readable text can be standing context`,
        );
      await rows.pinFile(f.workspaceId, f.id, json.pinned);
      sendJson(res, 200, view((await rows.file(f.workspaceId, f.id))!));
    }),
    { bodyLimitBytes: 1024 },
  );
  routes.add(
    "DELETE",
    "/api/workspaces/:ws/files/:file",
    withFile(async (res, f) => {
      await media.delete(f.mediaId);
      await rows.deleteFile(f.workspaceId, f.id);
      sendJson(res, 200, { ok: true });
    }),
  );
}
