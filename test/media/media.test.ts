// Signed media links end to end: publish through the gateway, fetch over HTTP, and every refusal.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it, mock } from "node:test";
import sharp from "sharp";
import type { DeliveryAddress } from "../../src/core/event.ts";
import { fitImage } from "../../src/media/image.ts";
import { startTestGateway, type TestGateway, tempDir } from "../helpers/gateway.ts";

const PUBLIC = "https://media.example.test";
const address: DeliveryAddress = { channel: "line", account: "default", conversationId: "U1" };

async function noisyPng(side: number): Promise<Buffer> {
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

/** The public URL points at a tunnel; tests fetch the same path from the gateway itself. */
function local(gw: TestGateway, url: string): string {
  assert.ok(url.startsWith(`${PUBLIC}/media/`), url);
  return gw.url + url.slice(PUBLIC.length);
}

describe("media links", () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const g of gateways) await g.stop();
  });
  async function start(env: Record<string, string> = {}, dir?: string) {
    const gw = await startTestGateway({ env: { OPENCLAW_CONNECTOR_PUBLIC_BASE_URL: PUBLIC, ...env }, dir });
    gateways.push(gw);
    return gw;
  }

  it("round trip: a published image is served with its type and nosniff", async () => {
    const gw = await start();
    const png = await noisyPng(16);
    const url = await gw.gateway.media.publish(
      { dataBase64: png.toString("base64"), mime: "image/png", filename: "a.png" },
      address,
    );
    assert.ok(url);
    const res = await fetch(local(gw, url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.match(res.headers.get("content-disposition") ?? "", /^inline/);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  });

  it("a tampered or truncated link is refused with 403", async () => {
    const gw = await start();
    const url = await gw.gateway.media.publish(
      { dataBase64: Buffer.from("hi").toString("base64"), mime: "text/plain", filename: "a.txt" },
      address,
    );
    const token = url!.slice(url!.lastIndexOf("/") + 1);
    const [payload, sig] = token.split(".");
    const claim = JSON.parse(Buffer.from(payload!, "base64url").toString());
    claim.e += 86_400; // try to extend the expiry
    const forged = `${Buffer.from(JSON.stringify(claim)).toString("base64url")}.${sig}`;
    for (const bad of [forged, payload!, `${payload}.${"A".repeat(43)}`, "x"]) {
      const res = await fetch(`${gw.url}/media/${bad}`);
      assert.equal(res.status, 403, bad);
      assert.match((await res.json()).error, /invalid media link/);
    }
  });

  it("an expired link answers 410", async () => {
    const gw = await start({ OPENCLAW_CONNECTOR_MEDIA_TTL_SEC: "60" });
    mock.timers.enable({ apis: ["Date"], now: Date.now() - 3_600_000 });
    let url: string | undefined;
    try {
      url = await gw.gateway.media.publish(
        { dataBase64: Buffer.from("old").toString("base64"), mime: "text/plain", filename: "old.txt" },
        address,
      );
    } finally {
      mock.timers.reset();
    }
    const res = await fetch(local(gw, url!));
    assert.equal(res.status, 410);
    assert.match((await res.json()).error, /expired/);
  });

  it("risky types are served as attachments, never inline", async () => {
    const gw = await start();
    const url = await gw.gateway.media.publish(
      {
        dataBase64: Buffer.from("<script>alert(1)</script>").toString("base64"),
        mime: "text/html",
        filename: "x.html",
      },
      address,
    );
    const res = await fetch(local(gw, url!));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  });

  it("links stay valid after a restart (key persisted in the store)", async () => {
    const dir = tempDir();
    const first = await start({}, dir);
    const url = await first.gateway.media.publish(
      { dataBase64: Buffer.from("keep").toString("base64"), mime: "text/plain", filename: "k.txt" },
      address,
    );
    const path = url!.slice(PUBLIC.length);
    await first.stop();
    gateways.splice(gateways.indexOf(first), 1);
    const second = await start({}, dir);
    const res = await fetch(second.url + path);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "keep");
  });

  it("with an admin token the key is derived from it: same token keeps links, another token refuses them", async () => {
    const token = "an-admin-token-of-enough-length";
    const dir = tempDir();
    const a = await start({ OPENCLAW_CONNECTOR_ADMIN_TOKEN: token }, dir);
    const url = await a.gateway.media.publish(
      { dataBase64: Buffer.from("x").toString("base64"), mime: "text/plain", filename: "x.txt" },
      address,
    );
    const path = url!.slice(PUBLIC.length);
    await a.stop();
    gateways.splice(gateways.indexOf(a), 1);
    const sameToken = await start({ OPENCLAW_CONNECTOR_ADMIN_TOKEN: token }, dir);
    assert.equal((await fetch(sameToken.url + path)).status, 200, "restarted with the same token");
    await sameToken.stop();
    gateways.splice(gateways.indexOf(sameToken), 1);
    const other = await start({ OPENCLAW_CONNECTOR_ADMIN_TOKEN: "a-different-admin-token-value" }, dir);
    assert.equal((await fetch(other.url + path)).status, 403);
  });

  it("an image over the size limit is scaled down, not dropped; other files over it are refused", async () => {
    const gw = await start({ OPENCLAW_CONNECTOR_MEDIA_MAX_MB: "0.05" });
    const big = await noisyPng(400);
    assert.ok(big.length > 0.05 * 1024 * 1024);
    const url = await gw.gateway.media.publish(
      { dataBase64: big.toString("base64"), mime: "image/png", filename: "big.png" },
      address,
    );
    const res = await fetch(local(gw, url!));
    const served = Buffer.from(await res.arrayBuffer());
    assert.ok(served.length <= 0.05 * 1024 * 1024, `served ${served.length} bytes`);
    const meta = await sharp(served).metadata();
    assert.ok(meta.width! > 0 && meta.format === "jpeg");
    await assert.rejects(
      gw.gateway.media.publish(
        { dataBase64: randomBytes(60_000).toString("base64"), mime: "application/zip", filename: "z.zip" },
        address,
      ),
      /media limit/,
    );
  });

  it("without a public base URL nothing is published", async () => {
    const gw = await startTestGateway();
    gateways.push(gw);
    const url = await gw.gateway.media.publish(
      { dataBase64: "aGk=", mime: "text/plain", filename: "a.txt" },
      address,
    );
    assert.equal(url, undefined);
  });
});

describe("fitImage", () => {
  it("scales to a dimension limit and converts formats the platform does not take", async () => {
    const webp = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: "#3366cc" } })
      .webp()
      .toBuffer();
    const fitted = await fitImage(webp, "image/webp", {
      maxBytes: 5_000_000,
      maxDimension: 2048,
      formats: ["jpeg", "png"],
    });
    assert.equal(fitted.mime, "image/jpeg");
    assert.equal(fitted.width, 2048);
    assert.ok(fitted.changed);
  });

  it("leaves an image that already fits untouched, and refuses bytes that are not an image", async () => {
    const png = await noisyPng(8);
    const fitted = await fitImage(png, "image/png", { maxBytes: 1_000_000, formats: ["png"] });
    assert.equal(fitted.changed, false);
    assert.equal(fitted.bytes, png);
    await assert.rejects(
      fitImage(Buffer.from("nope"), "image/png", { maxBytes: 10 }),
      /not a readable image/,
    );
  });
});
