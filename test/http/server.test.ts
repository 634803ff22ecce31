import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { it } from "node:test";
import { pino } from "pino";
import { Router } from "../../src/http/router.ts";
import { HttpServer } from "../../src/http/server.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { headOnly } from "./raw.ts";

it("without an admin token the admin API serves loopback callers, but not requests relayed by a local proxy", async () => {
  const gw = await startTestGateway();
  try {
    const direct = await fetch(`${gw.url}/admin/api/status`);
    assert.equal(direct.status, 200);
    for (const header of [
      "x-forwarded-for",
      "forwarded",
      "x-real-ip",
      "cf-connecting-ip",
      "true-client-ip",
      "x-client-ip",
    ]) {
      const proxied = await fetch(`${gw.url}/admin/api/status`, {
        headers: { [header]: header === "forwarded" ? "for=203.0.113.9" : "203.0.113.9" },
      });
      assert.equal(proxied.status, 403, header);
      assert.match(((await proxied.json()) as { error: string }).error, /loopback-only: set adminToken/);
    }
  } finally {
    await gw.stop();
  }
});

it("a port already in use is a clear startup error, and the half-started gateway cleans up after itself", async () => {
  const first = await startTestGateway();
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(startTestGateway({ config: { server: { port } } }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--port, CLAWGATE_PORT or server\\.port`),
      );
      return true;
    });
  } finally {
    await first.stop();
  }
});

/** A raw request: fetch() would normalise the path before sending it. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

it("a path starting with // is a path, not a host: it reaches no route and never a 500", async () => {
  const gw = await startTestGateway();
  try {
    const smuggled = await rawGet(gw.url, "//proxy-allowed-prefix/admin/api/status");
    assert.equal(smuggled.status, 404, smuggled.body);
    const bare = await rawGet(gw.url, "//");
    assert.equal(bare.status, 404, bare.body);
    assert.equal((await rawGet(gw.url, "/admin/api/status")).status, 200);
  } finally {
    await gw.stop();
  }
});

it("a client that goes away in the middle of its body is a debug line, not an error with a stack", async () => {
  const lines: { level: number; msg: string; path?: string; err?: unknown }[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const router = new Router();
  let reached = false;
  let headersSeen = false;
  router.add(
    "POST",
    "/upload",
    (_req, res) => {
      reached = true;
      res.end("ok");
    },
    {
      authorize: () => {
        headersSeen = true;
        return { ok: true };
      },
    },
  );
  const server = new HttpServer(router, {
    host: "127.0.0.1",
    port: 0,
    bodyLimitBytes: 1_000_000,
    requestTimeoutMs: 30_000,
    log,
  });
  await server.listen();
  try {
    const socket = connect(server.address.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n");
    socket.write("x".repeat(1000));
    // Once the server is reading the body, hang up as a slow client on a flaky network would.
    await waitFor(() => headersSeen, 5000, "the server reading the request");
    socket.destroy();
    const seen = await waitFor(() => lines.find((l) => l.path === "/upload"), 10_000, "the log line");
    assert.match(seen.msg, /closed the connection/);
    assert.equal(seen.level, 20, "debug");
    assert.equal(seen.err, undefined, "no stack trace");
    assert.deepEqual(
      lines.filter((l) => l.level >= 40),
      [],
      "nothing at warn or error",
    );
    assert.equal(reached, false);
  } finally {
    await server.close();
  }
});

it("bodies buffered at once are capped: past the budget a request is answered 503 before its body is read", async () => {
  const router = new Router();
  router.add("POST", "/upload", (_req, res, { body }) => {
    res.end(`got ${body.length}`);
  });
  const server = new HttpServer(router, {
    host: "127.0.0.1",
    port: 0,
    bodyLimitBytes: 800,
    bodyBudgetBytes: 1000,
    requestTimeoutMs: 30_000,
    log: pino({ level: "silent" }),
  });
  await server.listen();
  const head = (extra = "") => `POST /upload HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 600\n${extra}`;
  try {
    // The first upload has its share reserved (the server says "go on") and is still sending.
    const first = await headOnly(server.url, head("Expect: 100-continue"));
    assert.equal(first.status, 100);
    const second = await headOnly(server.url, head());
    assert.equal(second.status, 503, second.text);
    assert.match(second.text, /retry-after: 1/i);
    const chunked = await headOnly(
      server.url,
      "POST /upload HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked",
    );
    assert.equal(chunked.status, 503, "a chunked body reserves its route's limit");
    // Once the first is done, there is room again.
    let answer = "";
    first.socket.on("data", (c) => (answer += c));
    first.socket.write("x".repeat(600));
    await waitFor(() => answer.includes("got 600"), 10_000, "the first upload's answer");
    first.socket.destroy();
    const third = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: server.address.port, path: "/upload", method: "POST" },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end("y".repeat(600));
    });
    assert.equal(third, 200);
  } finally {
    await server.close();
  }
});
