// KakaoTalk (Open Builder skill) against test/fakes/kakao.ts. Kakao does not sign skill requests
// (docs/channels/kakao.md: the callback host allowlist and the sender allowlist stand in), so the bad-signature
// step is skipped with that reason. With skillTimeoutMs 0 every answer goes to the request's one-time callback
// URL, where the outbox's promises apply: a 429 with Retry-After is waited out, a 400 (expired or used callback)
// dead-letters. A redelivery is the same request (same callback URL) again. Kakao answers once per request, so a
// long reply is packed into that answer's bubbles by the adapter, not split into messages: chunking is skipped.
// Buttons are quick replies whose press sends the label back as the utterance.
import { FakeKakao, type ReceivedCallback, skillPayload } from "../../fakes/kakao.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const USER = "kakao_contract";

interface Output {
  simpleText?: { text: string };
}

export function kakaoDriver(): ChannelDriver {
  let kakao: FakeKakao;
  let gw: TestGateway;
  const inBand: ReceivedCallback[] = [];

  const post = async (utterance: string, callbackUrl: string) => {
    const res = await fetch(`${gw.url}/kakao/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(skillPayload({ userId: USER, utterance, callbackUrl })),
    });
    const answer = (await res.json().catch(() => undefined)) as ReceivedCallback["body"] | undefined;
    // An answer ready in time comes back in-band, in the HTTP response, instead of through the callback.
    if (answer?.template) inBand.push({ token: "in-band", body: answer, at: Date.now() });
    return res.status;
  };

  return {
    channel: "kakao",
    account: "default",
    async start(o) {
      kakao = await new FakeKakao().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            kakao: {
              allowedUsers: USER,
              callbackHosts: [`http://127.0.0.1:${kakao.port}`],
              skillTimeoutMs: 0,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await kakao?.stop();
    },
    address: () => ({
      channel: "kakao",
      account: "default",
      conversationId: USER,
      replyContext: { callbackUrl: kakao.callbackUrl(), receivedAt: Date.now() },
    }),
    async sendText(text) {
      const callbackUrl = kakao.callbackUrl();
      const status = await post(text, callbackUrl);
      return { status, redeliver: () => post(text, callbackUrl) };
    },
    sendBadSignature: { skip: "Kakao does not sign skill requests (docs/channels/kakao.md)" },
    messages() {
      return [...inBand, ...kakao.received].flatMap((r) => {
        const outputs = (r.body.template?.outputs ?? []) as Output[];
        const quick = (r.body.template?.quickReplies ?? []) as { label: string; messageText: string }[];
        return outputs
          .filter((o) => o.simpleText)
          .map(
            (o, i): PlatformMessage => ({
              text: o.simpleText!.text,
              at: r.at ?? 0,
              // Quick replies belong to the whole answer: shown under its last bubble.
              buttons:
                i === outputs.length - 1 ? quick.map((q) => ({ label: q.label, value: q.messageText })) : [],
            }),
          );
      });
    },
    // One answer per callback URL: there is nothing to edit.
    editCount: () => 0,
    rateLimitNextSend(retryAfterSec) {
      const since = Date.now();
      kakao.rateLimitNext = { count: 1, retryAfterSec };
      return {
        announcedMs: retryAfterSec * 1000,
        refusedAt: () => kakao.rateLimited.find((r) => r.at >= since)?.at,
      };
    },
    failNextSendPermanently: () => {
      kakao.failNext = { status: 400, message: "callback expired" };
    },
    chunking: { skip: "Kakao answers once per request: the adapter packs a long reply into its bubbles" },
    // A quick reply sends its messageText as the user's next utterance.
    pressButton: (_message, { value }) => post(value, kakao.callbackUrl()),
  };
}
