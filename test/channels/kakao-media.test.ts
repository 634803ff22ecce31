// KakaoTalk pictures against the fake Kakao: a photo's URL in the SkillPayload (userRequest.params.media, or the
// secure image plugin's secureUrls) becomes an image attachment whose exact bytes the adapter fetches without
// credentials, only from the configured media hosts; a picture in an answer goes out as a simpleImage.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { payloadImageUrls } from "../../src/channels/kakao/images.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { UrlRefusedError } from "../../src/security/url-guard.ts";
import { FakeKakao, skillPayload } from "../fakes/kakao.ts";
import { FakeAgent, imagesOf } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const limits = () => ({ maxBytes: 1024 * 1024, signal: new AbortController().signal });
const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2500)]);
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("KakaoTalk pictures", () => {
  let agent: FakeAgent;
  let kakao: FakeKakao;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    kakao = await new FakeKakao().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        server: { publicBaseUrl: "https://gw.example.com" },
        // 10 KB per picture: small enough to exceed in a test.
        media: { inbound: { maxImageMb: 10 / 1024 } },
        channels: {
          kakao: {
            allowedUsers: "kakao_alice",
            callbackHosts: [`http://127.0.0.1:${kakao.port}`],
            mediaHosts: [`http://127.0.0.1:${kakao.port}`],
            skillTimeoutMs: 800,
          },
        },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await kakao?.stop();
  });

  const adapter = () => gw.gateway.adapter("kakao", "default")!;
  const post = (body: unknown) =>
    fetch(`${gw.url}/kakao/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const inboxEvent = (userId: string) =>
    waitFor(
      async () => {
        for (const item of await gw.gateway.store.listInbound({ limit: 100 })) {
          const event = JSON.parse(item.payload) as InboundEvent;
          if (event.sender.id === userId) return event;
        }
        return undefined;
      },
      10_000,
      `the event from ${userId}`,
    );

  test("image URLs are read from a photo's params.media and from the secure image plugin's secureUrls", () => {
    const a = "https://talk.kakaocdn.net/dna/a/img.jpg?credential=x";
    const b = "https://talk.kakaocdn.net/dna/b/img.jpg?credential=y";
    assert.deepEqual(payloadImageUrls(skillPayload({ photoUrl: a })), [a]);
    // The plugin's value is in action.params and again in detailParams.origin: each URL counts once.
    assert.deepEqual(payloadImageUrls(skillPayload({ utterance: "done", secureImages: [a, b] })), [a, b]);
    const other = skillPayload({ utterance: "hi" });
    (other.userRequest.params as Record<string, unknown>).media = { type: "video", url: a };
    (other.action.params as Record<string, unknown>).place = "List(not a url)";
    assert.deepEqual(payloadImageUrls(other), []);
  });

  test("a photo becomes an image attachment (its URL is no text), and its exact bytes come without credentials", async () => {
    const url = kakao.addImage(photo);
    assert.equal((await post(skillPayload({ userId: "kakao_photo", photoUrl: url }))).status, 200);
    const event = await inboxEvent("kakao_photo");
    assert.equal(event.text, "");
    assert.deepEqual(event.attachments, [{ kind: "image", url }]);
    const got = await adapter().fetchAttachment!(event.attachments[0]!, limits());
    assert.ok(got.bytes.equals(photo), "the exact bytes");
    assert.equal(got.mime, "image/jpeg");
    // The inbox worker fetches it as well: no request for it carried credentials.
    const hits = kakao.imageHits.filter((h) => url.endsWith(h.path));
    assert.ok(hits.length >= 1);
    assert.deepEqual(
      hits.filter((h) => h.authorization !== undefined),
      [],
    );
  });

  test("a KakaoTalk photo reaches the agent as an image part with the exact bytes", async () => {
    const jpeg = await sharp({ create: { width: 5, height: 5, channels: 3, background: "#29c" } })
      .jpeg()
      .toBuffer();
    const url = kakao.addImage(jpeg);
    assert.equal((await post(skillPayload({ userId: "kakao_alice", photoUrl: url }))).status, 200);
    const request = await waitFor(
      () => agent.requests.find((r) => imagesOf(r).some((i) => i.bytes.equals(jpeg))),
      10_000,
      "the agent's request with the photo",
    );
    assert.deepEqual(
      imagesOf(request).map((i) => i.mime),
      ["image/jpeg"],
    );
  });

  test("secure image plugin pictures arrive with the user's text", async () => {
    const urls = [kakao.addImage(photo), kakao.addImage(Buffer.from("second"), "image/png")];
    const res = await post(
      skillPayload({ userId: "kakao_secure", utterance: "two pics", secureImages: urls }),
    );
    assert.equal(res.status, 200);
    const event = await inboxEvent("kakao_secure");
    assert.equal(event.text, "two pics");
    assert.deepEqual(
      event.attachments.map((a) => a.url),
      urls,
    );
    const second = await adapter().fetchAttachment!(event.attachments[1]!, limits());
    assert.equal(second.bytes.toString(), "second");
  });

  test("a picture over media.inbound.maxImageMb: the user is told in the answer, and the text reaches the agent", async () => {
    const url = kakao.addImage(Buffer.concat([photo, randomBytes(20_000)]));
    const callbackUrl = kakao.callbackUrl();
    agent.options = { headerDelayMs: 1000 }; // past the skill timeout: the answer comes by callback
    try {
      const res = await post(
        skillPayload({ userId: "kakao_alice", utterance: "see this", secureImages: [url], callbackUrl }),
      );
      assert.deepEqual(await res.json(), { version: "2.0", useCallback: true });
      const got = await waitFor(
        () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
        10_000,
        "callback",
      );
      const texts = (got.body.template?.outputs ?? []).map((o) => o.simpleText?.text ?? "");
      assert.equal(texts[0], "echo: see this");
      assert.match(
        texts.join("\n"),
        /The picture is larger than the limit of 10 KB, so it was not passed on/,
      );
    } finally {
      agent.options = {};
    }
  });

  test("a picture URL on a host that is not one of the media hosts is refused, and nothing is fetched", async () => {
    const hits = kakao.imageHits.length;
    for (const url of [
      kakao.addImage(photo, "image/jpeg", "localhost"),
      "http://127.0.0.1:9/dna/x/img.jpg",
    ]) {
      await assert.rejects(adapter().fetchAttachment!({ kind: "image", url }, limits()), UrlRefusedError);
    }
    assert.equal(kakao.imageHits.length, hits);
  });

  test("a picture in an answer goes out as a simpleImage whose URL serves the exact bytes", async () => {
    const callbackUrl = kakao.callbackUrl();
    await adapter().send(
      {
        channel: "kakao",
        account: "default",
        conversationId: "kakao_alice",
        replyContext: { callbackUrl, receivedAt: Date.now() },
      },
      { text: "here it is", media: [{ dataBase64: PNG_1x1, mime: "image/png", filename: "dot.png" }] },
    );
    const got = await waitFor(
      () => kakao.received.find((r) => callbackUrl.endsWith(r.token)),
      5000,
      "callback",
    );
    const [image, text] = got.body.template?.outputs ?? [];
    assert.equal(text?.simpleText?.text, "here it is");
    assert.equal(image?.simpleImage?.altText, "dot.png");
    const imageUrl = image?.simpleImage?.imageUrl ?? "";
    assert.ok(imageUrl.startsWith("https://gw.example.com/media/"), imageUrl);
    const served = await fetch(imageUrl.replace("https://gw.example.com", gw.url));
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), Buffer.from(PNG_1x1, "base64"));
  });
});
