// Requests the workspace tests share: JSON calls and a hand-built multipart upload (bytes exactly as a browser
// frames them, so the server's streaming reader is what is tested).
import { request } from "node:http";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field and assert on them
export type Json = any;

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

export const BOUNDARY = "----clawgateTestBoundary7MA4YWxk";

export function multipartBody(
  parts: { name: string; filename?: string; mime?: string; data: Buffer | string }[],
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ""}`;
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${p.mime ? `Content-Type: ${p.mime}\r\n` : ""}\r\n`,
        "latin1",
      ),
      Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data),
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/**
 * POSTs raw bytes with node:http, so a test controls Content-Length (or sends chunked with none) and still reads
 * the answer when the server refuses before the body is all sent.
 */
export function rawPost(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  o: { chunked?: boolean } = {},
): Promise<{ status: number; json: Json }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
        "x-clawgate-upload": "1",
        ...(o.chunked ? {} : { "content-length": String(body.length) }),
        ...headers,
      },
    });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Json = text;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    // The server may close while the rest is still being written: the answer already came (or will).
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const step = 64 * 1024;
    const write = (at: number) => {
      if (at >= body.length) return req.end();
      const ok = req.write(body.subarray(at, at + step));
      if (ok) setImmediate(() => write(at + step));
      else req.once("drain", () => write(at + step));
    };
    write(0);
  });
}

export async function upload(
  base: string,
  ws: string,
  filename: string,
  data: Buffer | string,
  mime = "text/plain",
  headers: Record<string, string> = {},
) {
  return rawPost(
    `${base}/api/workspaces/${ws}/files`,
    multipartBody([{ name: "file", filename, mime, data }]),
    headers,
  );
}
