// WeChat Official Account attachments: image, voice (with WeChat's Recognition), video, location and link
// messages become Attachments; fetchAttachment downloads temporary media through the fake's media API (errcode
// answers with HTTP 200, a revoked token refreshed once); images the bot sends go out as WeChat images through
// the customer-service API after an upload. End to end: the agent gets the picture's exact bytes and WeChat's
// own transcript of a voice message; a picture in the agent's answer arrives as a WeChat image.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import sharp from "sharp";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import { WechatClient } from "../../src/channels/wechat/client.ts";
import { fetchWechatMedia } from "../../src/channels/wechat/media.ts";
import { parseWechatXml } from "../../src/channels/wechat/xml.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import { findFfmpeg } from "../../src/media/audio/convert.ts";
import { FakeAgent, type FakeAgentRequest, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { FakeWechat, signedQuery, wechatMessageXml } from "../fakes/wechat.ts";
import { makeAmr } from "../helpers/audio.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const TOKEN = "wechat-media-token";
const needsFfmpeg = !(await findFfmpeg()) && !process.env.CI ? "ffmpeg is not installed" : false;
const ALICE = "openid_alice";

describe("WeChat media", () => {
  let agent: FakeAgent;
  let wechat: FakeWechat;
  let gw: TestGateway;
  let whisper: FakeTranscriptionServer;
  let seq = 0;

  before(async () => {
    agent = await new FakeAgent().start();
    wechat = await new FakeWechat().start();
    whisper = await new FakeTranscriptionServer().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: { transcription: { url: whisper.url } },
        policy: testCommandPolicy,
        // 52 KB for pictures, so an oversized one is cheap to make.
        media: { inbound: { maxImageMb: 0.05 } },
        channels: {
          wechat: {
            token: TOKEN,
            appId: wechat.appId,
            appSecret: wechat.appSecret,
            allowedUsers: [ALICE],
            apiBase: wechat.url,
            passiveReplyMs: 3000,
          },
        },
      },
      extensions: [channelTestExtension(await testPng(64, 48))],
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await wechat?.stop();
    await whisper?.stop();
  });

  const adapter = () => gw.gateway.adapter("wechat", "default")!;
  const limits = (maxBytes = 10 * 1024 * 1024) => ({ maxBytes, signal: AbortSignal.timeout(30_000) });
  const post = (body: string) =>
    fetch(`${gw.url}/wechat/webhook?${signedQuery(TOKEN)}`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body,
    });
  /** Posts one message and returns the event the gateway committed, and the webhook's answer. */
  async function receive(type: string, extra: string): Promise<{ event: InboundEvent; answer: string }> {
    const msgId = String(7_000_000_000 + ++seq);
    const res = await post(wechatMessageXml({ type, extra, msgId }));
    const answer = await res.text();
    const row = await waitFor(
      () => gw.gateway.store.getInbound(`wechat:default:${msgId}`),
      10_000,
      "the event",
    );
    return { event: JSON.parse(row.payload) as InboundEvent, answer };
  }

  test("declares media and downloads", () => {
    assert.equal(adapter().capabilities.media, true);
    assert.equal(adapter().capabilities.downloads, true);
  });

  test("an image message: fetchAttachment returns exactly the bytes behind its MediaId", async () => {
    const photo = await testPng(30, 20);
    const mediaId = wechat.addMedia(photo, "image/png");
    const { event } = await receive(
      "image",
      `<PicUrl><![CDATA[https://mmbiz.qpic.cn/mmbiz_png/abc/0]]></PicUrl><MediaId><![CDATA[${mediaId}]]></MediaId>`,
    );
    assert.equal(event.text, "");
    assert.deepEqual(event.attachments, [
      { kind: "image", url: "https://mmbiz.qpic.cn/mmbiz_png/abc/0", platformId: mediaId },
    ]);
    const got = await adapter().fetchAttachment!(event.attachments[0]!, limits());
    assert.ok(got.bytes.equals(photo), "the exact bytes");
    assert.equal(got.mime, "image/png");
  });

  test("a revoked access token is refreshed once and the download succeeds", async () => {
    const bytes = randomBytes(500);
    const mediaId = wechat.addMedia(bytes, "image/jpeg");
    await adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits()); // a token is cached
    wechat.revokeTokens();
    const tokens = wechat.tokenRequests;
    const got = await adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits());
    assert.ok(got.bytes.equals(bytes));
    assert.equal(wechat.tokenRequests, tokens + 1);
    assert.deepEqual(
      wechat.mediaGets.filter((g) => g.mediaId === mediaId).map((g) => g.errcode),
      [0, 40001, 0],
    );
  });

  test("an expired MediaId (errcode 40007 with HTTP 200) is unavailable, not a file", async () => {
    const mediaId = wechat.addMedia(Buffer.from("gone"), "image/jpeg");
    wechat.media.get(mediaId)!.gone = true;
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits()),
      (err: Error) => err instanceof AttachmentUnavailableError && /40007/.test(err.message),
    );
  });

  test("a wrong AppSecret is unavailable, with what to check", async () => {
    const client = new WechatClient({
      appId: wechat.appId,
      appSecret: "not-the-secret",
      apiBase: wechat.url,
      store: gw.gateway.store,
      log: pino({ level: "silent" }),
    });
    // The gateway's client shares its token through the store under the same appId: drop it, so this client
    // has to ask for one with its wrong secret.
    await gw.gateway.store.kvDelete("wechat-token", wechat.appId);
    const mediaId = wechat.addMedia(Buffer.from("x"), "image/jpeg");
    await assert.rejects(
      fetchWechatMedia(
        { apiBase: wechat.url, policy: {}, client },
        { kind: "image", platformId: mediaId },
        limits(),
      ),
      (err: Error) => err instanceof AttachmentUnavailableError && /APP_SECRET/.test(err.message),
    );
  });

  test("a video is fetched from the video_url the media API answers with", async () => {
    const video = randomBytes(4000);
    const mediaId = wechat.addMedia(video, "video/mp4", { video: true });
    const { event } = await receive(
      "video",
      `<MediaId><![CDATA[${mediaId}]]></MediaId><ThumbMediaId><![CDATA[thumb1]]></ThumbMediaId>`,
    );
    assert.deepEqual(event.attachments, [{ kind: "video", platformId: mediaId }]);
    const got = await adapter().fetchAttachment!(event.attachments[0]!, limits());
    assert.ok(got.bytes.equals(video));
  });

  test("without AppID/AppSecret an image is fetched from its PicUrl; other media say what to set", async () => {
    const photo = await testPng(9, 9);
    const mediaId = wechat.addMedia(photo, "image/png", { video: true }); // served on the fake's CDN path
    const src = { apiBase: wechat.url, policy: {}, client: undefined };
    const got = await fetchWechatMedia(
      src,
      { kind: "image", platformId: mediaId, url: `${wechat.url}/cdn/video/${mediaId}` },
      limits(),
    );
    assert.ok(got.bytes.equals(photo));
    await assert.rejects(
      fetchWechatMedia(src, { kind: "voice", platformId: mediaId }, limits()),
      (err: Error) => err instanceof AttachmentUnavailableError && /_APP_SECRET/.test(err.message),
    );
  });

  test("a file over the limit is refused", async () => {
    const mediaId = wechat.addMedia(randomBytes(5000), "image/jpeg");
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits(1000)),
      (err: Error) => err instanceof MediaTooLargeError && err.limit === 1000,
    );
  });

  test("voice with Recognition: WeChat's text is the message and the attachment's transcript", async () => {
    const amr = Buffer.concat([Buffer.from("#!AMR\n"), randomBytes(300)]);
    const mediaId = wechat.addMedia(amr, "audio/amr");
    const { event } = await receive(
      "voice",
      `<MediaId><![CDATA[${mediaId}]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[明天天气怎么样]]></Recognition>`,
    );
    assert.equal(event.text, "明天天气怎么样");
    assert.deepEqual(event.attachments, [
      { kind: "voice", platformId: mediaId, mime: "audio/amr", transcript: "明天天气怎么样" },
    ]);
    assert.ok((await adapter().fetchAttachment!(event.attachments[0]!, limits())).bytes.equals(amr));
  });

  test("voice without Recognition is a voice attachment with no text", async () => {
    const { event } = await receive(
      "voice",
      `<MediaId><![CDATA[voice-media-1]]></MediaId><Format><![CDATA[speex]]></Format>`,
    );
    assert.equal(event.text, "");
    assert.deepEqual(event.attachments, [
      { kind: "voice", platformId: "voice-media-1", mime: "audio/speex" },
    ]);
  });

  test("a location: Location_X is the latitude, Location_Y the longitude, Label the address", async () => {
    const { event } = await receive(
      "location",
      "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[广州市天河区]]></Label>",
    );
    assert.equal(event.text, "");
    assert.deepEqual(event.attachments, [
      { kind: "location", location: { latitude: 23.134521, longitude: 113.358803, address: "广州市天河区" } },
    ]);
  });

  test("a shared link becomes its title, description and URL as text", async () => {
    const { event } = await receive(
      "link",
      "<Title><![CDATA[Release notes]]></Title><Description><![CDATA[What changed]]></Description><Url><![CDATA[https://example.com/notes]]></Url>",
    );
    assert.equal(event.text, "Release notes\nWhat changed\nhttps://example.com/notes");
    assert.deepEqual(event.attachments, []);
  });

  test("an image the bot sends is uploaded as temporary media and sent as a WeChat image", async () => {
    const png = await testPng(50, 40);
    await gw.gateway.deliver(
      { channel: "wechat", account: "default", conversationId: "openid_pics" },
      { text: "", media: [{ dataBase64: png.toString("base64"), mime: "image/png", filename: "chart.png" }] },
      "wechat-media-out-1",
    );
    const sent = await waitFor(
      () => wechat.sent.find((m) => m.touser === "openid_pics" && m.msgtype === "image"),
      10_000,
      "the image message",
    );
    const upload = wechat.uploads.get(sent.image!.media_id)!;
    assert.equal(upload.type, "image");
    assert.ok(upload.bytes.equals(png), "a small PNG goes out unchanged");
  });

  test("a rate limit on the image after the text went out: the retry sends the image, not the text again", async () => {
    const png = await testPng(12, 12);
    // Earlier messages' answers must not use up the one failure meant for this delivery.
    await queuesDrained(gw.gateway.store, 15_000, "earlier deliveries done");
    wechat.failNext = { count: 1, errcode: 45011, errmsg: "api minute-quota reach limit", after: 1 };
    await gw.gateway.deliver(
      { channel: "wechat", account: "default", conversationId: "openid_retry" },
      {
        text: "text first",
        media: [{ dataBase64: png.toString("base64"), mime: "image/png", filename: "r.png" }],
      },
      "wechat-media-out-retry",
    );
    await waitFor(
      () => wechat.sent.find((m) => m.touser === "openid_retry" && m.msgtype === "image"),
      15_000,
      "the image after the limit",
    );
    assert.deepEqual(
      wechat.sent.filter((m) => m.touser === "openid_retry").map((m) => m.msgtype),
      ["text", "image"],
    );
    assert.equal(wechat.refused.at(-1)?.errcode, 45011);
  });

  test("an image over WeChat's 2 MB is made smaller, not refused", async () => {
    const noise = await sharp(randomBytes(1200 * 1200 * 3), {
      raw: { width: 1200, height: 1200, channels: 3 },
    })
      .png()
      .toBuffer();
    assert.ok(noise.length > 2 * 1024 * 1024);
    await gw.gateway.deliver(
      { channel: "wechat", account: "default", conversationId: "openid_big" },
      {
        text: "big one",
        media: [{ dataBase64: noise.toString("base64"), mime: "image/png", filename: "noise.png" }],
      },
      "wechat-media-out-2",
    );
    const sent = await waitFor(
      () => wechat.sent.find((m) => m.touser === "openid_big" && m.msgtype === "image"),
      30_000,
      "the image message",
    );
    const upload = wechat.uploads.get(sent.image!.media_id)!;
    assert.ok(upload.bytes.length <= 2 * 1024 * 1024);
    assert.ok(wechat.sent.some((m) => m.touser === "openid_big" && m.text?.content === "big one"));
  });

  test("a passive reply stays text; the answer's image follows through the customer-service API", async () => {
    const res = await post(wechatMessageXml({ from: ALICE, content: "/img", msgId: "7100000001" }));
    const passive = parseWechatXml(await res.text());
    assert.equal(passive.MsgType, "text");
    assert.equal(passive.Content, "here is the picture");
    const sent = await waitFor(
      () => wechat.sent.find((m) => m.touser === ALICE && m.msgtype === "image"),
      10_000,
      "the image after the passive reply",
    );
    const upload = wechat.uploads.get(sent.image!.media_id)!;
    assert.ok(upload.bytes.equals(await testPng(64, 48)));
    await waitFor(
      () => wechat.sent.find((m) => m.touser === ALICE && m.text?.content === "a pic"),
      10_000,
      "the caption",
    );
  });

  describe("end to end", () => {
    const requestWith = (match: (r: FakeAgentRequest) => boolean, what: string) =>
      waitFor(() => agent.requests.find(match), 15_000, what);
    const lastUserText = (r: FakeAgentRequest) =>
      textOf([...r.body.messages].reverse().find((m) => m.role === "user")?.content ?? "");

    test("a photo reaches the agent as an image part with the exact bytes", async () => {
      const photo = await testPng(22, 33);
      const mediaId = wechat.addMedia(photo, "image/png");
      await receive(
        "image",
        `<PicUrl><![CDATA[https://mmbiz.qpic.cn/x/0]]></PicUrl><MediaId><![CDATA[${mediaId}]]></MediaId>`,
      );
      const req = await requestWith(
        (r) => imagesOf(r).some((i) => i.bytes.equals(photo)),
        "the agent request with the photo",
      );
      assert.equal(imagesOf(req)[0]!.mime, "image/png");
    });

    test("a voice message with Recognition: the agent gets WeChat's text, nothing is transcribed again", async () => {
      const { answer } = await receive(
        "voice",
        "<MediaId><![CDATA[never-fetched]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[请把灯关掉]]></Recognition>",
      );
      const req = await requestWith((r) => lastUserText(r).includes("请把灯关掉"), "the recognized text");
      assert.equal(
        lastUserText(req),
        "请把灯关掉",
        "said once: the recognition is the text, not repeated as a transcript",
      );
      assert.ok(
        !wechat.mediaGets.some((g) => g.mediaId === "never-fetched"),
        "the voice itself was not downloaded",
      );
      assert.match(String(parseWechatXml(answer).Content), /请把灯关掉/);
    });

    test("a voice message without Recognition: the AMR is fetched and transcribed", {
      skip: needsFfmpeg,
    }, async () => {
      const amr = makeAmr(40);
      const mediaId = wechat.addMedia(amr, "audio/amr");
      await receive("voice", `<MediaId><![CDATA[${mediaId}]]></MediaId><Format><![CDATA[amr]]></Format>`);
      const req = await requestWith(
        (r) => /\[voice message, transcribed\] heard [0-9a-f]{16}/.test(lastUserText(r)),
        "the transcript at the agent",
      );
      assert.ok(req && whisper.requests.some((r) => r.file?.name.endsWith(".wav")), "converted to WAV first");
      assert.ok(wechat.mediaGets.some((g) => g.mediaId === mediaId && g.errcode === 0));
    });

    test("an oversized photo: the user is told, nothing is lost", async () => {
      const big = Buffer.concat([await testPng(8, 8), randomBytes(80_000)]);
      const mediaId = wechat.addMedia(big, "image/png");
      const { event, answer } = await receive("image", `<MediaId><![CDATA[${mediaId}]]></MediaId>`);
      const note = /^The picture is larger than the limit of 52 KB, so it was not passed on/;
      const passive = String(parseWechatXml(answer).Content ?? "");
      if (!note.test(passive)) {
        await waitFor(() => wechat.sent.find((m) => note.test(m.text?.content ?? "")), 10_000, "the note");
      }
      await waitFor(
        async () => (await gw.gateway.store.getInbound(event.id))?.state === "done",
        10_000,
        "the message handled",
      );
    });

    test("a picture in the agent's answer arrives as a WeChat image", async () => {
      const png = await sharp({ create: { width: 5, height: 7, channels: 4, background: "#00f" } })
        .png()
        .toBuffer();
      agent.options.reply = () => `Drawn:\n\n![blue](data:image/png;base64,${png.toString("base64")})`;
      try {
        const res = await post(wechatMessageXml({ from: ALICE, content: "e2e draw", msgId: "7200000001" }));
        assert.equal(parseWechatXml(await res.text()).Content, "Drawn:\n\n(blue)");
        const sent = await waitFor(
          () =>
            wechat.sent.find(
              (m) => m.msgtype === "image" && wechat.uploads.get(m.image!.media_id)?.bytes.equals(png),
            ),
          15_000,
          "the image at WeChat",
        );
        assert.equal(sent.touser, ALICE);
      } finally {
        agent.options.reply = undefined;
      }
    });
  });
});
