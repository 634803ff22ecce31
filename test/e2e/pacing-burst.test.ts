// A burst of replies to 500 conversations, through the real outbox and channel adapters to fakes that meter
// sends as the platforms do: every conversation gets exactly one reply, the fake refuses none (no 429, no
// 130429), and the burst takes at most 10 % longer than the least time the platform's limits allow.
//
// Only a bound that the limits make long is asserted: Telegram's 30 a second makes 500 replies take over 15 s;
// WhatsApp runs as a number shared with the Business app (fixed at 20 mps) and Twilio as a 20 MPS sender for the
// same reason. The gateway's own work per reply is a small part of that, so a busy machine does not decide the
// outcome.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { minimumSpanMs } from "../../src/runtime/pacer.ts";
import { FakeTelegram } from "../fakes/telegram.ts";
import { FakeTwilio } from "../fakes/twilio.ts";
import { FakeWhatsapp } from "../fakes/whatsapp.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const N = 500;
const BOT = { token: "333333:BurstBurstBurstBurst", id: 333333, username: "burst_bot" };

/** Queues one reply to each conversation, all at once, as a bridge or a scheduler would. */
async function burst(gw: TestGateway, channel: string, conversations: string[]) {
  await Promise.all(
    conversations.map((conversationId, i) =>
      gw.gateway.deliver(
        { channel, account: "default", conversationId },
        { text: `reply ${i}` },
        `burst:${channel}:${i}`,
      ),
    ),
  );
}

function report(name: string, spanMs: number, minimumMs: number) {
  const ratio = spanMs / minimumMs;
  console.log(
    `# ${name}: ${N} replies in ${Math.round(spanMs)} ms, minimum ${Math.round(minimumMs)} ms (${ratio.toFixed(3)}×)`,
  );
  return ratio;
}

describe("a burst of replies to 500 conversations", { timeout: 240_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test("Telegram: 30 messages a second per bot, no 429, within 10 % of the minimum", async () => {
    const fake = await new FakeTelegram([BOT]).start();
    cleanup.push(() => fake.stop());
    const gw = await startTestGateway({
      env: {
        OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token,
        OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url,
      },
      config: { channels: { telegram: { leaseTtlMs: 2000 } } },
    });
    cleanup.push(() => gw.stop());
    const chats = Array.from({ length: N }, (_, i) => String(700_000 + i));
    await burst(gw, "telegram", chats);

    const sends = () => fake.calls.filter((c) => c.method === "sendMessage");
    await waitFor(() => sends().filter((c) => c.status === 200).length >= N, 60_000, "every reply sent");
    const accepted = sends().filter((c) => c.status === 200);
    assert.deepEqual(
      sends()
        .filter((c) => c.status !== 200)
        .map((c) => c.status),
      [],
      `Telegram refused nothing (refused by: ${JSON.stringify([...fake.meter.refused])})`,
    );
    const perChat = new Map<string, number>();
    for (const c of accepted)
      perChat.set(String(c.params.chat_id), (perChat.get(String(c.params.chat_id)) ?? 0) + 1);
    assert.equal(perChat.size, N);
    assert.ok(
      [...perChat.values()].every((n) => n === 1),
      "exactly one reply per chat",
    );

    const limit = fake.limits!.bot;
    const minimum = minimumSpanMs(N, { ratePerSec: limit.perSec, burst: limit.burst });
    const span = accepted.at(-1)!.at - accepted[0]!.at;
    assert.ok(report("telegram", span, minimum) <= 1.1, `${span} ms against a minimum of ${minimum} ms`);
  });

  test("WhatsApp at a 20 mps number: no 130429, within 10 % of the minimum", async () => {
    const wa = await new FakeWhatsapp().start();
    cleanup.push(() => wa.stop());
    wa.limits!.number = { perSec: 20, burst: 20 };
    const gw = await startTestGateway({
      config: {
        channels: {
          whatsapp: {
            accessToken: wa.token,
            verifyToken: "burst-verify",
            appSecret: "burst-app-secret",
            phoneNumberId: wa.phoneNumberId,
            apiBase: wa.url,
            throughputMps: 20,
          },
        },
      },
    });
    cleanup.push(() => gw.stop());
    const users = Array.from({ length: N }, (_, i) => String(15_550_000_000 + i));
    await burst(gw, "whatsapp", users);

    await waitFor(() => wa.sent.length >= N, 60_000, "every reply sent");
    assert.deepEqual(wa.refused, [], "Meta refused nothing");
    const perUser = new Map<string, number>();
    for (const s of wa.sent) perUser.set(String(s.body.to), (perUser.get(String(s.body.to)) ?? 0) + 1);
    assert.equal(perUser.size, N);
    assert.ok(
      [...perUser.values()].every((n) => n === 1),
      "exactly one reply per user",
    );

    const limit = wa.limits!.number;
    const minimum = minimumSpanMs(N, { ratePerSec: limit.perSec, burst: limit.burst });
    const span = wa.sent.at(-1)!.at - wa.sent[0]!.at;
    assert.ok(report("whatsapp", span, minimum) <= 1.1, `${span} ms against a minimum of ${minimum} ms`);
  });

  test("Twilio at a 20 MPS sender: its queue stays short, within 10 % of the minimum", async () => {
    const tw = await new FakeTwilio().start();
    cleanup.push(() => tw.stop());
    tw.senderMps = 20;
    const gw = await startTestGateway({
      config: {
        channels: {
          sms: {
            accountSid: tw.accountSid,
            authToken: tw.authToken,
            from: "+15550001111",
            apiBase: tw.url,
            publicUrl: "https://gw.example.com/sms/webhook",
            mps: 20,
          },
        },
      },
    });
    cleanup.push(() => gw.stop());
    const numbers = Array.from({ length: N }, (_, i) => `+1555${String(2_000_000 + i)}`);
    await burst(gw, "sms", numbers);

    await waitFor(() => tw.sent.length >= N, 60_000, "every reply sent");
    assert.deepEqual(tw.refused, [], "Twilio refused nothing");
    assert.equal(new Set(tw.sent.map((m) => m.To)).size, N, "exactly one reply per number");
    // Twilio sends one message per interval whatever arrives: the replies reach phones over (N - 1) / MPS.
    const minimum = minimumSpanMs(N, { ratePerSec: 20, burst: 1 });
    const leaves = tw.sent.map((m) => m.at! + m.queuedMs!);
    const span = Math.max(...leaves) - tw.sent[0]!.at!;
    const longestQueue = Math.max(...tw.sent.map((m) => m.queuedMs!));
    assert.ok(longestQueue <= 1500, `a reply waited ${Math.round(longestQueue)} ms in Twilio's queue`);
    assert.ok(report("twilio", span, minimum) <= 1.1, `${span} ms against a minimum of ${minimum} ms`);
  });
});
