// Reads a request body with a hard size cap: the declared Content-Length is checked before reading, and the
// running total while reading, so an oversized body is refused without buffering it.
import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** The client went away before its body was complete: its business, not a fault of ours. */
export class ClientGoneError extends Error {
  constructor() {
    super("the client closed the connection before the request body was complete");
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(limit));
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    // Node reports a connection closed mid-body as an "aborted" ECONNRESET error, and then "close".
    req.on("error", (err) => reject(req.complete ? err : new ClientGoneError()));
    req.on("close", () => {
      if (!req.complete) reject(new ClientGoneError());
    });
  });
}
