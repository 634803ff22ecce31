// Signing the console in and out as a browser does, and what an attacker's page or a guesser gets: the cookie's
// attributes, wrong and guessed tokens (rate-limited like the admin token), expired and signed-out sessions,
// foreign origins, the audit log of each change, and the live event stream.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { api, EventStream, signIn } from "./helpers.ts";

const TOKEN = "console-admin-token-0123456789";
const COOKIE = /^clawgate_console=([A-Za-z0-9_-]{43}); HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/;

describe("console sessions (admin token configured)", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: { adminToken: TOKEN, agentUrl: agent.url, agent: { stream: false } },
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  it("the right token gives an HttpOnly, SameSite=Strict, expiring cookie that opens the admin API", async () => {
    const r = await api(gw.url, "POST", "/console/api/session", { body: { token: TOKEN } });
    assert.equal(r.status, 204);
    const m = COOKIE.exec(r.headers.get("set-cookie") ?? "");
    assert.ok(m, `cookie: ${r.headers.get("set-cookie")}`);
    const id = m[1]!;
    const session = await api(gw.url, "GET", "/console/api/session", { cookie: id });
    assert.equal(session.status, 200);
    const expiresAt = session.json.expiresAt as number;
    assert.ok(Math.abs(expiresAt - (Date.now() + 43_200_000)) < 60_000, String(expiresAt));
    const status = await api(gw.url, "GET", "/admin/api/status", { cookie: id });
    assert.equal(status.status, 200);
    assert.equal(status.json.ok, true);
    // The store keeps the id's hash, never the id itself.
    const hash = createHash("sha256").update(id).digest("hex");
    assert.ok(await gw.gateway.store.kvGet("console-session", hash));
    assert.equal(await gw.gateway.store.kvGet("console-session", id), undefined);
  });

  it("a wrong token is refused with 401 and no cookie; no cookie at all is not signed in", async () => {
    const r = await api(gw.url, "POST", "/console/api/session", { body: { token: "guess" } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { ok: false, error: "admin token is wrong" });
    assert.equal(r.headers.get("set-cookie"), null);
    assert.equal((await api(gw.url, "GET", "/console/api/session")).status, 401);
    const noAuth = await api(gw.url, "GET", "/admin/api/status");
    assert.equal(noAuth.status, 401);
  });

  it("a page of another origin cannot use the cookie; the console's own origin can", async () => {
    const id = await signIn(gw.url, TOKEN);
    const evil = await api(gw.url, "POST", "/admin/api/inbox/retry-dead", {
      cookie: id,
      headers: { origin: "http://evil.example" },
    });
    assert.equal(evil.status, 403);
    assert.match(String(evil.json.error), /another origin \(http:\/\/evil\.example\)/);
    const own = await api(gw.url, "POST", "/admin/api/inbox/retry-dead", {
      cookie: id,
      headers: { origin: gw.url },
    });
    assert.equal(own.status, 200);
    assert.deepEqual(own.json, { ok: true, retried: 0 });
    // A form post (text/plain, no preflight) cannot sign in or act.
    const form = await fetch(`${gw.url}/console/api/session`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ token: TOKEN }),
    });
    assert.equal(form.status, 415);
  });

  it("signing out deletes the session: the cookie opens nothing afterwards", async () => {
    const id = await signIn(gw.url, TOKEN);
    const out = await api(gw.url, "DELETE", "/console/api/session", { cookie: id });
    assert.equal(out.status, 204);
    assert.equal(
      out.headers.get("set-cookie"),
      "clawgate_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
    );
    assert.equal((await api(gw.url, "GET", "/admin/api/status", { cookie: id })).status, 401);
    const again = await api(gw.url, "GET", "/console/api/session", { cookie: id });
    assert.equal(again.status, 401);
    assert.match(String(again.json.error), /expired or was signed out: sign in again/);
  });

  it("an expired session is refused (as every replica reads it from the store)", async () => {
    const id = await signIn(gw.url, TOKEN);
    const hash = createHash("sha256").update(id).digest("hex");
    await gw.gateway.store.kvSet("console-session", hash, JSON.stringify({ expiresAt: Date.now() - 1 }));
    assert.equal((await api(gw.url, "GET", "/admin/api/status", { cookie: id })).status, 401);
  });

  it("every change is audited once with who, what and when, newest first; reads are not", async () => {
    const id = await signIn(gw.url, TOKEN);
    const who = `console:${id.slice(0, 8)}`;
    await api(gw.url, "POST", "/admin/api/outbox/retry-dead", { cookie: id });
    await api(gw.url, "GET", "/admin/api/status", { cookie: id });
    await api(gw.url, "POST", "/admin/api/outbox/retry-dead", { token: TOKEN });
    await api(gw.url, "DELETE", "/console/api/session", { cookie: id });
    const audit = await waitFor(async () => {
      const r = await api(gw.url, "GET", "/admin/api/audit?limit=4", { token: TOKEN });
      const entries = r.json.entries as Record<string, unknown>[];
      return entries[0]?.path === "/console/api/session" && entries[0]?.method === "DELETE" && entries;
    });
    const strip = ({ id: _i, at: _a, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(audit.map(strip), [
      { who, method: "DELETE", path: "/console/api/session", status: 204, summary: "signed out" },
      {
        who: "admin-token",
        method: "POST",
        path: "/admin/api/outbox/retry-dead",
        status: 200,
        summary: "retried 0",
      },
      { who, method: "POST", path: "/admin/api/outbox/retry-dead", status: 200, summary: "retried 0" },
      { who, method: "POST", path: "/console/api/session", status: 204, summary: "signed in" },
    ]);
    const ats = audit.map((e) => e.at as number);
    assert.deepEqual(
      [...ats].sort((a, b) => b - a),
      ats,
    );
  });

  it("the event stream sends status (with per-channel rates) when it changes, and each audit entry", async () => {
    const id = await signIn(gw.url, TOKEN);
    const refused = await EventStream.open(gw.url, {});
    assert.equal(refused.status, 401);
    const stream = await EventStream.open(gw.url, { cookie: `clawgate_console=${id}` });
    try {
      assert.equal(stream.status, 200);
      const first = await waitFor(() => stream.events.find((e) => e.event === "status"));
      assert.equal(first.data.ok, true);
      assert.ok(Array.isArray(first.data.channels));
      assert.equal(typeof first.data.rates, "object");

      const chat = new WebchatClient(gw.url);
      const thread = await chat.createThread();
      const sent = await chat.send(thread, "hello console");
      await chat.reply(thread, sent.eventId);
      const busy = await waitFor(
        () =>
          stream.events.find((e) => e.event === "status" && (e.data.rates as Record<string, number>).webchat),
        15_000,
        "a status event with the web chat's rate",
      );
      assert.equal((busy.data.rates as Record<string, number>).webchat, 1);

      await api(gw.url, "POST", "/admin/api/inbox/retry-dead", { cookie: id });
      const audit = await waitFor(() => stream.events.find((e) => e.event === "audit"));
      assert.equal(audit.data.path, "/admin/api/inbox/retry-dead");
      assert.equal(audit.data.who, `console:${id.slice(0, 8)}`);
    } finally {
      stream.close();
    }
  });
});

describe("console sign-in is rate-limited like the admin token", () => {
  it("after 10 failures from an address, even the right token and a valid cookie are refused with 429", async () => {
    const gw = await startTestGateway({ config: { adminToken: TOKEN } });
    try {
      const id = await signIn(gw.url, TOKEN);
      // Guessing cookies counts as much as guessing tokens.
      for (let i = 0; i < 5; i++)
        assert.equal((await api(gw.url, "GET", "/admin/api/status", { cookie: `x${i}` })).status, 401);
      for (let i = 0; i < 5; i++)
        assert.equal(
          (await api(gw.url, "POST", "/console/api/session", { body: { token: `guess-${i}` } })).status,
          401,
        );
      const blocked = await api(gw.url, "POST", "/console/api/session", { body: { token: TOKEN } });
      assert.equal(blocked.status, 429);
      assert.match(String(blocked.json.error), /too many failed admin attempts/);
      assert.ok(Number(blocked.headers.get("retry-after")) > 0);
      assert.equal((await api(gw.url, "GET", "/admin/api/status", { cookie: id })).status, 429);
      // Refused before the body: a blocked caller's upload is not read.
      const big = await api(gw.url, "POST", "/console/api/session", { body: { token: "x".repeat(100_000) } });
      assert.equal(big.status, 429);
    } finally {
      await gw.stop();
    }
  });
});

describe("console sessions without an admin token", () => {
  it("loopback callers sign in without a token; a relayed request is refused; Secure behind https", async () => {
    const gw = await startTestGateway({
      config: { server: { publicBaseUrl: "https://console.example.net" } },
    });
    try {
      const r = await api(gw.url, "POST", "/console/api/session");
      assert.equal(r.status, 204);
      const cookie = r.headers.get("set-cookie") ?? "";
      assert.match(cookie, /; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200; Secure$/);
      const id = /clawgate_console=([^;]+)/.exec(cookie)![1]!;
      assert.equal((await api(gw.url, "GET", "/console/api/session", { cookie: id })).status, 200);
      const relayed = await api(gw.url, "POST", "/console/api/session", {
        headers: { "x-forwarded-for": "203.0.113.9" },
      });
      assert.equal(relayed.status, 403);
      assert.match(String(relayed.json.error), /loopback-only/);
      await api(gw.url, "POST", "/admin/api/inbox/retry-dead", { cookie: id });
      const audit = await waitFor(async () => {
        const entries = (await api(gw.url, "GET", "/admin/api/audit")).json.entries as {
          who: string;
          path: string;
        }[];
        return entries.find((e) => e.path === "/admin/api/inbox/retry-dead");
      });
      assert.equal(audit.who, `console:${id.slice(0, 8)}`);
    } finally {
      await gw.stop();
    }
  });
});
