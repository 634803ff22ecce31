// Twilio MMS media end to end against the fake Twilio: the webhook's MediaUrlN become attachments, and the
// adapter fetches each from Twilio's Media resource with the account's Basic auth, following the redirect to
// the CDN without it, within the size limit, and never from a host that is not Twilio's.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { normalizeSms } from "../../src/channels/sms/ingress.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import { UrlRefusedError } from "../../src/security/url-guard.ts";
import { FakeAgent, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeTwilio, inboundParams, twilioSign } from "../fakes/twilio.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const PUBLIC_URL = "https://sms.example.com/sms/webhook";
const limits = (maxBytes = 1024 * 1024) => ({ maxBytes, signal: new AbortController().signal });
/** A JPEG's first bytes and then noise: the exact bytes must come through, whatever they are. */
const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3000)]);

describe("Twilio MMS media", () => {
  let agent: FakeAgent;
  let tw: FakeTwilio;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    tw = await new FakeTwilio().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        server: { publicBaseUrl: "https://gw.example.com" },
        // 10 KB per picture: small enough to exceed in a test.
        media: { inbound: { maxImageMb: 10 / 1024 } },
        channels: {
          sms: {
            accountSid: tw.accountSid,
            authToken: tw.authToken,
            from: "+15550001111",
            allowedUsers: "+15551230001",
            apiBase: tw.url,
            publicUrl: PUBLIC_URL,
          },
        },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await tw?.stop();
  });

  const adapter = () => gw.gateway.adapter("sms", "default")!;

  test("MediaUrlN and MediaContentTypeN become attachments of the kind their type names", () => {
    const params = new URLSearchParams(
      inboundParams(tw.accountSid, {
        body: "",
        media: [
          { url: `${tw.url}/m/0`, type: "image/jpeg" },
          { url: `${tw.url}/m/1`, type: "application/pdf" },
          { url: `${tw.url}/m/2`, type: "audio/amr" },
          { url: `${tw.url}/m/3`, type: "video/mp4" },
        ],
      }),
    );
    const event = normalizeSms(params, "default");
    assert.deepEqual(
      event?.attachments.map((a) => [a.kind, a.mime, a.url]),
      [
        ["image", "image/jpeg", `${tw.url}/m/0`],
        ["file", "application/pdf", `${tw.url}/m/1`],
        ["audio", "audio/amr", `${tw.url}/m/2`],
        ["video", "video/mp4", `${tw.url}/m/3`],
      ],
    );
  });

  test("a photo's exact bytes come from the MediaUrl: Basic auth to Twilio, none to the CDN it redirects to", async () => {
    const url = tw.addMedia(photo, "image/jpeg");
    const params = inboundParams(tw.accountSid, {
      body: "what is this?",
      media: [{ url, type: "image/jpeg" }],
    });
    const res = await fetch(`${gw.url}/sms/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSign(tw.authToken, PUBLIC_URL, params),
      },
      body: new URLSearchParams(params),
    });
    assert.equal(res.status, 200);
    const item = await waitFor(
      async () =>
        (await gw.gateway.store.listInbound({ limit: 100 })).find(
          (i) => i.id === `sms:default:${params.MessageSid}`,
        ),
      10_000,
      "inbox item",
    );
    const [attachment] = (JSON.parse(item.payload) as InboundEvent).attachments;
    assert.deepEqual(attachment, { kind: "image", url, mime: "image/jpeg" });

    // The worker fetches this one too; the hops are checked on a file only this test fetches.
    const direct = tw.addMedia(photo, "image/jpeg");
    const got = await adapter().fetchAttachment!({ ...attachment, url: direct }, limits());
    assert.ok(got.bytes.equals(photo), "the exact bytes");
    assert.equal(got.mime, "image/jpeg");
    const mediaSid = direct.split("/").at(-1)!;
    const basic = `Basic ${Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString("base64")}`;
    assert.deepEqual(
      tw.mediaHits.filter((h) => h.path.includes(mediaSid)).map((h) => [h.server, h.authorization]),
      [
        ["api", basic],
        ["cdn", undefined],
      ],
    );
  });

  const postSms = (params: Record<string, string>) =>
    fetch(`${gw.url}/sms/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSign(tw.authToken, PUBLIC_URL, params),
      },
      body: new URLSearchParams(params),
    });

  test("an MMS photo reaches the agent as an image part with the exact bytes", async () => {
    const jpeg = await sharp({ create: { width: 6, height: 6, channels: 3, background: "#3a6" } })
      .jpeg()
      .toBuffer();
    const url = tw.addMedia(jpeg, "image/jpeg");
    const params = inboundParams(tw.accountSid, { body: "", media: [{ url, type: "image/jpeg" }] });
    assert.equal((await postSms(params)).status, 200);
    const request = await waitFor(
      () => agent.requests.find((r) => imagesOf(r).some((i) => i.bytes.equals(jpeg))),
      10_000,
      "the agent's request with the photo",
    );
    assert.deepEqual(
      imagesOf(request).map((i) => i.mime),
      ["image/jpeg"],
    );
    await waitFor(
      () => tw.sent.find((m) => m.To === params.From && /^echo:/.test(m.Body ?? "")),
      10_000,
      "answer",
    );
  });

  test("a picture in the agent's answer goes out as MMS media that serves the exact bytes", async () => {
    const png = await sharp({ create: { width: 3, height: 3, channels: 4, background: "#f00" } })
      .png()
      .toBuffer();
    agent.options.reply = () =>
      `Here you go:\n\n![a red square](data:image/png;base64,${png.toString("base64")})`;
    try {
      const params = inboundParams(tw.accountSid, { body: "draw a red square" });
      assert.equal((await postSms(params)).status, 200);
      const mms = await waitFor(
        () => tw.sent.find((m) => m.To === params.From && m.MediaUrl.length > 0),
        10_000,
        "the MMS",
      );
      assert.ok(mms.MediaUrl[0]!.startsWith("https://gw.example.com/media/"), mms.MediaUrl[0]);
      const served = await fetch(mms.MediaUrl[0]!.replace("https://gw.example.com", gw.url));
      assert.equal(served.status, 200);
      assert.ok(Buffer.from(await served.arrayBuffer()).equals(png), "the exact bytes");
      assert.ok(
        tw.sent.some((m) => m.To === params.From && m.Body?.startsWith("Here you go:")),
        "the text goes too",
      );
    } finally {
      agent.options.reply = undefined;
    }
  });

  test("a photo over media.inbound.maxImageMb: the sender is told, and the text still reaches the agent", async () => {
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#999" } })
      .jpeg()
      .toBuffer();
    const url = tw.addMedia(Buffer.concat([jpeg, randomBytes(20_000)]), "image/jpeg");
    const params = inboundParams(tw.accountSid, {
      body: "see attached",
      media: [{ url, type: "image/jpeg" }],
    });
    assert.equal((await postSms(params)).status, 200);
    const note = await waitFor(
      () => tw.sent.find((m) => m.To === params.From && /picture/.test(m.Body ?? "")),
      10_000,
      "the note",
    );
    assert.match(note.Body ?? "", /^The picture is larger than the limit of 10 KB, so it was not passed on/);
    const request = agent.requests.find((r) =>
      r.body.messages.some((m) => textOf(m.content) === "see attached"),
    );
    assert.ok(request, "the text reached the agent");
    assert.deepEqual(imagesOf(request), []);
  });

  test("a file over the limit is refused before its bytes are kept", async () => {
    const url = tw.addMedia(photo, "image/jpeg");
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", url }, limits(1000)),
      MediaTooLargeError,
    );
  });

  test("a MediaUrl on a private host that is not Twilio's is refused by the URL guard, and nothing is fetched", async () => {
    const url = tw.addMedia(photo, "image/jpeg").replace("127.0.0.1", "localhost");
    const hitsBefore = tw.mediaHits.length;
    await assert.rejects(adapter().fetchAttachment!({ kind: "image", url }, limits()), UrlRefusedError);
    assert.equal(tw.mediaHits.length, hitsBefore, "no request reached the fake");
  });
});
