// The address policies: which hosts a cleartext pairing URL may name, and which URLs a fetch on a chat user's
// behalf may reach (DNS resolved, every address checked, redirects re-checked).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { setupUrlProblem } from "../../src/pairing/setup-code.ts";
import { cleartextAllowedHost, isPublicAddress } from "../../src/security/ip-ranges.ts";
import {
  assertUrlAllowed,
  guardedFetch,
  RedirectRefusedError,
  UrlRefusedError,
} from "../../src/security/url-guard.ts";

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
      "::127.0.0.1",
      "::ffff:0:127.0.0.1",
      "::ffff:0:a9fe:a9fe",
      "::10.0.0.1",
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
      "http://[::127.0.0.1]/",
      "http://[::ffff:0:127.0.0.1]/",
      "http://[0:0:0:0:ffff:0:7f00:1]/",
      "http://[::169.254.169.254]/latest/meta-data",
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

describe("redirects of a guarded fetch", () => {
  test("a POST never follows a redirect; a GET re-checks the caller's rule at every hop", async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url === "/hop") res.writeHead(307, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else if (req.url === "/away") res.writeHead(302, { location: `http://localhost:${port}/x` }).end();
      else res.writeHead(200).end("landed");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const policy = { allowHosts: ["127.0.0.1", "localhost"] };
    try {
      await assert.rejects(
        guardedFetch(`http://127.0.0.1:${port}/hop`, policy, { method: "POST", body: "{}" }),
        (err: Error) => err instanceof RedirectRefusedError && /307 \(a redirect\)/.test(err.message),
      );
      await assert.rejects(
        guardedFetch(`http://127.0.0.1:${port}/hop`, policy, { maxRedirects: 0 }),
        RedirectRefusedError,
      );
      assert.deepEqual(hits, ["POST /hop", "GET /hop"], "the redirect target was never asked");
      const followed = await guardedFetch(`http://127.0.0.1:${port}/hop`, policy);
      assert.equal(followed.body.toString(), "landed");
      // A redirect to a host the caller's own rule refuses is refused before it is requested.
      hits.length = 0;
      const onlyIp = (u: URL) => (u.hostname === "127.0.0.1" ? undefined : "not on the allowlist");
      await assert.rejects(
        guardedFetch(`http://127.0.0.1:${port}/away`, policy, { checkUrl: onlyIp }),
        /localhost.*not on the allowlist/,
      );
      assert.deepEqual(hits, ["GET /away"]);
    } finally {
      server.close();
    }
  });
});

describe("IPv6 spellings of a blocked IPv4 address", () => {
  // A few blocked IPv4 ranges: loopback, RFC 1918, link-local (cloud metadata), CGNAT, "this network".
  const blockedV4 = fc
    .constantFrom<[number, number]>(
      [0x7f000000, 8],
      [0x0a000000, 8],
      [0xac100000, 12],
      [0xc0a80000, 16],
      [0xa9fe0000, 16],
      [0x64400000, 10],
      [0x00000000, 8],
    )
    .chain(([net, bits]) =>
      fc.integer({ min: 0, max: 2 ** (32 - bits) - 1 }).map((host) => (net | host) >>> 0),
    );
  const dotted = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  const hex = (v: number) => `${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  // Every prefix an IPv6 stack (or a translator in front of it) may map onto IPv4, in full and compressed form.
  const spellings = (v: number): string[] => [
    `::ffff:${dotted(v)}`,
    `::ffff:${hex(v)}`,
    `0:0:0:0:0:ffff:${dotted(v)}`,
    `::${dotted(v)}`,
    `::${hex(v)}`,
    `0:0:0:0:0:0:${hex(v)}`,
    `::ffff:0:${dotted(v)}`,
    `0:0:0:0:ffff:0:${hex(v)}`,
    `64:ff9b::${dotted(v)}`,
    `64:ff9b:1::${hex(v)}`,
    `2002:${hex(v)}::1`,
  ];

  test("each is refused, as a literal and inside a URL", async () => {
    await fc.assert(
      fc.asyncProperty(blockedV4, fc.integer({ min: 0, max: 10 }), fc.boolean(), async (v, i, upper) => {
        let ip = spellings(v)[i]!;
        if (upper) ip = ip.toUpperCase();
        assert.equal(isPublicAddress(ip), false, ip);
        await assert.rejects(
          assertUrlAllowed(`http://[${ip}]/`, {}, async () => []),
          UrlRefusedError,
          ip,
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("public IPv6 addresses stay allowed", () => {
    for (const ip of ["2606:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888"])
      assert.equal(isPublicAddress(ip), true, ip);
  });
});
