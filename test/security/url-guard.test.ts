// The address policies: which hosts a cleartext pairing URL may name, and which URLs a fetch on a chat user's
// behalf may reach (DNS resolved, every address checked, redirects re-checked).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { cleartextAllowedHost, isPublicAddress } from "../../src/security/ip-ranges.ts";
import { setupUrlProblem } from "../../src/security/pairing/setup-code.ts";
import { assertUrlAllowed, guardedFetch, UrlRefusedError } from "../../src/security/url-guard.ts";

describe("cleartext pairing URLs", () => {
  test("private hosts may use http:// and ws://", () => {
    for (const h of [
      "localhost",
      "127.0.0.1",
      "10.0.2.2",
      "printer.local",
      "192.168.1.5",
      "172.16.0.1",
      "172.31.255.1",
      "169.254.1.1",
      "[::1]",
      "[fe80::1]",
      "[fd12:3456::1]",
      "10.1.2.3",
    ])
      assert.ok(cleartextAllowedHost(h), h);
  });
  test("public hosts, Tailscale/CGNAT and look-alikes may not", () => {
    for (const h of [
      "example.com",
      "8.8.8.8",
      "100.64.0.1",
      "100.100.100.100",
      "172.32.0.1",
      "[2001:4860::1]",
      "local",
      "evil.local.example.com",
      "11.0.0.1",
    ])
      assert.ok(!cleartextAllowedHost(h), h);
  });
  test("setup URLs", () => {
    assert.equal(setupUrlProblem("https://gw.example.com"), undefined);
    assert.equal(setupUrlProblem("wss://gw.example.com"), undefined);
    assert.equal(setupUrlProblem("ws://192.168.1.2:8787"), undefined);
    assert.equal(setupUrlProblem("http://127.0.0.1:8787"), undefined);
    assert.match(setupUrlProblem("http://gw.example.com")!, /cleartext/);
    assert.match(setupUrlProblem("ws://100.64.1.1")!, /cleartext/);
    assert.match(setupUrlProblem("ftp://192.168.1.1")!, /cannot be used/);
  });
});

describe("fetches on a user's behalf", () => {
  const resolver = (map: Record<string, string[]>) => async (host: string) =>
    (map[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

  test("address classification", () => {
    for (const ip of [
      "127.0.0.1",
      "10.0.0.1",
      "100.64.0.1",
      "169.254.169.254",
      "192.168.0.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "0.0.0.0",
      "224.0.0.1",
    ])
      assert.equal(isPublicAddress(ip), false, ip);
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700::1111"]) assert.equal(isPublicAddress(ip), true, ip);
  });

  test("private literals and names resolving to private addresses are refused", async () => {
    const r = resolver({
      "public.test": ["93.184.216.34"],
      "sneaky.test": ["93.184.216.34", "10.0.0.5"],
      "meta.test": ["169.254.169.254"],
    });
    assert.equal((await assertUrlAllowed("https://public.test/a.png", {}, r)).hostname, "public.test");
    for (const url of [
      "http://127.0.0.1/",
      "http://0x7f000001/",
      "http://[::ffff:127.0.0.1]/",
      "http://169.254.169.254/latest/meta-data",
      "http://sneaky.test/",
      "http://meta.test/",
      "http://nowhere.test/",
      "file:///etc/passwd",
      "gopher://public.test/",
    ])
      await assert.rejects(assertUrlAllowed(url, {}, r), UrlRefusedError, url);
  });

  test("the operator can allow a host or private addresses", async () => {
    const r = resolver({ "media.internal": ["10.1.1.1"] });
    await assertUrlAllowed("http://media.internal/x", { allowHosts: ["media.internal"] }, r);
    await assertUrlAllowed("http://127.0.0.1:9/x", { allowPrivate: true }, r);
  });

  test("guardedFetch refuses loopback, and re-checks redirects", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/hop") res.writeHead(302, { location: `http://localhost:${port}/secret` }).end();
      else res.writeHead(200, { "content-type": "text/plain" }).end("internal data");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      await assert.rejects(guardedFetch(`http://127.0.0.1:${port}/secret`, {}), UrlRefusedError);
      const ok = await guardedFetch(`http://127.0.0.1:${port}/secret`, { allowPrivate: true });
      assert.equal(ok.body.toString(), "internal data");
      await assert.rejects(
        guardedFetch(`http://127.0.0.1:${port}/hop`, { allowHosts: ["127.0.0.1"] }),
        /localhost/,
      );
      await assert.rejects(
        guardedFetch(`http://127.0.0.1:${port}/secret`, { allowPrivate: true }, { maxBytes: 4 }),
        /larger than 4 bytes/,
      );
    } finally {
      server.close();
    }
  });
});
