// Raw HTTP requests for boundary tests: fetch() would not let a test set Host, and it fills in a content type.
import { request } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

export function raw(
  base: string,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path: o.path, method: o.method ?? "GET", headers: o.headers },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/**
 * Sends only a request's head (request line and headers) on a plain socket and resolves with what the server
 * answers, without ever sending the body the head announces. `closed` tells whether the server then closed the
 * connection (so a client still sending would stop).
 */
export function headOnly(
  base: string,
  head: string,
): Promise<{ status: number; text: string; closed: Promise<void>; socket: Socket }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = "";
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("data", (chunk: string) => {
      text += chunk;
      // The first status line with its headers: a final answer, or "100 Continue".
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m && text.includes("\r\n\r\n")) resolve({ status: Number(m[1]), text, closed, socket });
    });
    socket.once("close", () =>
      reject(new Error(`the server closed the connection without an answer:\n${text}`)),
    );
    socket.write(`${head.trim().replace(/\n/g, "\r\n")}\r\n\r\n`);
  });
}
