// The channel contract: what every channel promises the gateway and its users, checked against a fake of the
// platform through a small driver. Built-in channels run it from test/contract/<channel>.test.ts; a plugin
// author runs the same suite for their channel.
//
// Usage (in a test file run by `node --test`):
//
//   import { channelContract } from "clawgate/test/contract/suite.ts"; // or a relative path
//   import { myDriver } from "./my-driver.ts";
//   channelContract(myDriver());
//
// A driver (the ChannelDriver interface below) starts the fake platform and a gateway with the channel
// configured against it, posts signed inbound messages the way the platform does (and the same one again as a
// platform redelivery), posts one with a bad signature, reads what the fake platform received (final text of
// each message, after edits), makes the fake answer the next send with a 429 + retry-after or a permanent
// error, and presses a button the gateway sent. A step the platform does not have (no signed inbound request,
// no platform that can answer 429, no buttons, one answer per request so nothing to chunk) is declared with
// `{ skip: "<reason>" }` in place of the step (sendBadSignature, rateLimitNextSend, failNextSendPermanently,
// pressButton, chunking): the suite reports it as skipped with that reason, never silently. Buttons and edits
// follow the adapter's `capabilities`: no buttons declared, that case is skipped; no edits declared, the suite
// checks that none were made. test/contract/drivers/*.ts are worked examples, one per built-in channel.
//
// The suite shares one gateway per channel across its cases, asserts no timing except "the reply arrived after
// the platform's retry-after" (measured at the fake, with a margin), and waits for events generously.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ChannelCapabilities } from "../../src/channels/types.ts";
import type { DeliveryAddress } from "../../src/core/event.ts";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { channelTestExtension, testCommandPolicy } from "../channels/extension.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { type TestGateway, waitFor } from "../helpers/gateway.ts";

/** A step the platform does not have, with the reason (shown as the test's skip message). */
export interface Skip {
  skip: string;
}

export interface PlatformButton {
  label: string;
  value: string;
}

/** One message as the platform shows it. */
export interface PlatformMessage {
  /** What the platform shows now (after any edits). */
  text: string;
  /** When the fake accepted it (ms, the fake's clock). */
  at: number;
  /** Buttons attached to it: the label shown and what the platform sends back on a press. */
  buttons: PlatformButton[];
  /** Driver-private handle (e.g. the platform's message record) for pressButton. */
  ref?: unknown;
}

export interface StartOptions {
  agentUrl: string;
  /** Gateway config keys to merge (policy etc.); the driver adds `channels.<its channel>`. */
  config: Record<string, unknown>;
  extensions: GatewayExtension[];
}

export interface ChannelDriver {
  readonly channel: string;
  readonly account: string;
  /** Tells apart several drivers of one channel (e.g. Telegram's "webhook" and "polling" modes). */
  readonly label?: string;
  /** Starts the fake platform and a gateway configured against it. */
  start(o: StartOptions): Promise<TestGateway>;
  /** Stops what start() started (the gateway first). */
  stop(): Promise<void>;
  /** Where the gateway answers the trusted test user (for deliveries the suite enqueues itself). */
  address(): DeliveryAddress;
  /**
   * Delivers a text from the trusted test user the way the platform does (signed webhook, poll, socket).
   * `status` is the gateway's HTTP answer (200 where there is no HTTP request); `redeliver` sends the same
   * platform event again as the platform's own redelivery and returns that answer's status.
   */
  sendText(text: string): Promise<{ status: number; redeliver(): Promise<number> }>;
  /** Posts a message from the trusted user with a wrong signature; returns the HTTP status. */
  sendBadSignature: ((text: string) => Promise<number>) | Skip;
  /** Every message the platform holds from the bot, in the order sent. */
  messages(): PlatformMessage[];
  /**
   * Every text the platform accepted from the bot, intermediate edits (streamed previews) included. Needed where
   * the channel declares edits; the preview check is skipped without it.
   */
  allTexts?(): string[];
  /** Edit requests the platform received (accepted or not). */
  editCount(): number;
  /**
   * The next send answers 429 with a retry-after of `retryAfterSec`. Returns the wait the platform announced
   * (undefined where the platform's 429 carries none) and a reader of when the fake refused (its clock).
   */
  rateLimitNextSend:
    | ((retryAfterSec: number) => { announcedMs?: number; refusedAt(): number | undefined })
    | Skip;
  /** The next send fails for good (a permanent 4xx or the platform's equivalent). */
  failNextSendPermanently: (() => void) | Skip;
  /**
   * Set where a reply is not split into messages at maxTextLength (one answer per request, packed by the adapter
   * itself): the chunking check is then skipped with this reason.
   */
  chunking?: Skip;
  /** Presses `button` (one of `message.buttons`) as the user would; returns the HTTP status. */
  pressButton: ((message: PlatformMessage, button: PlatformButton) => Promise<number>) | Skip;
}

const WAIT = 30_000;
/** Timers and clocks round; the platform's clock and the gateway's are the same machine's here. */
const RETRY_MARGIN_MS = 150;

function words(n: number): string {
  const out: string[] = [];
  // Astral emoji and CJK among the words: a cut must never split a surrogate pair or a word.
  for (let i = 0; i < n; i++)
    out.push(`${i % 13 === 5 ? "🙂" : ""}word${i}${i % 11 === 3 ? "中文" : ""}${i % 17 === 16 ? "\n" : ""}`);
  return out.join(" ").replace(/\n /g, "\n");
}

const tokens = (s: string) => s.split(/\s+/).filter(Boolean);

export function channelContract(driver: ChannelDriver, extra: { config?: Record<string, unknown> } = {}) {
  const label = driver.label ? ` (${driver.label})` : "";
  describe(`channel contract: ${driver.channel}/${driver.account}${label}`, () => {
    let agent: FakeAgent;
    let gw: TestGateway;
    let caps: ChannelCapabilities;
    let n = 0;
    const long = new Map<string, string>();
    const unique = (what: string) => `contract ${what} ${++n}`;
    const shown = (text: string) => driver.messages().filter((m) => m.text === text);
    const asked = (text: string) =>
      agent.requests.filter((r) => r.body.messages.at(-1)?.content === text).length;
    /** The reply to a fresh message: a barrier proving everything sent earlier in this lane was handled. */
    const roundTrip = async () => {
      const text = unique("barrier");
      await driver.sendText(text);
      await waitFor(() => shown(`echo: ${text}`).length > 0, WAIT, `the answer to "${text}"`);
    };

    before(async () => {
      agent = await new FakeAgent({
        reply: (req) => {
          const last = req.body.messages.at(-1)?.content ?? "";
          return long.get(last) ?? `echo: ${last}`;
        },
      }).start();
      gw = await driver.start({
        agentUrl: agent.url,
        config: { policy: testCommandPolicy, ...extra.config },
        extensions: [channelTestExtension()],
      });
      const adapter = gw.gateway.adapter(driver.channel, driver.account);
      assert.ok(adapter, `the gateway runs ${driver.channel}/${driver.account}`);
      caps = adapter.capabilities;
    });

    after(async () => {
      await driver.stop();
      await agent?.stop();
    });

    it("event ids are prefixed channel:account:", async () => {
      const text = unique("ids");
      const { status } = await driver.sendText(text);
      assert.ok(status >= 200 && status < 300, `inbound accepted, got ${status}`);
      await waitFor(() => shown(`echo: ${text}`).length > 0, WAIT, "the answer");
      const items = await gw.gateway.store.listInbound({ limit: 100 });
      const item = items.find((i) => (JSON.parse(i.payload) as { text: string }).text === text);
      assert.ok(item, "the event is in the inbox");
      const prefix = `${driver.channel}:${driver.account}:`;
      assert.ok(item.id.startsWith(prefix), `${item.id} starts with ${prefix}`);
      assert.ok(item.id.length > prefix.length, "and names the platform's event");
    });

    it("a platform redelivery is a duplicate: answered once", async () => {
      const text = unique("redelivery");
      const first = await driver.sendText(text);
      await waitFor(() => shown(`echo: ${text}`).length > 0, WAIT, "the answer");
      const again = await first.redeliver();
      assert.ok(again >= 200 && again < 300, `the redelivery is acknowledged (stops retries), got ${again}`);
      await roundTrip();
      assert.equal(asked(text), 1, "the agent was asked once");
      assert.equal(shown(`echo: ${text}`).length, 1, "the user got one answer");
    });

    const bad = driver.sendBadSignature;
    it(
      "a bad signature is 401/403 and never reaches the agent",
      "skip" in bad ? { skip: bad.skip } : {},
      async () => {
        if ("skip" in bad) return;
        const text = unique("forged");
        const status = await bad(text);
        assert.ok(status === 401 || status === 403, `refused with 401/403, got ${status}`);
        await roundTrip();
        assert.equal(asked(text), 0, "the agent never saw it");
        assert.equal(shown(`echo: ${text}`).length, 0);
      },
    );

    const rateLimit = driver.rateLimitNextSend;
    it(
      "a platform 429 becomes a wait with the platform's retry-after; the reply arrives once",
      "skip" in rateLimit ? { skip: rateLimit.skip } : {},
      async (t) => {
        if ("skip" in rateLimit) return;
        const limit = rateLimit(2);
        const text = unique("ratelimit");
        await driver.sendText(text);
        const reply = await waitFor(() => shown(`echo: ${text}`)[0], WAIT, "the answer after the 429");
        const refusedAt = limit.refusedAt();
        assert.ok(refusedAt !== undefined, "the fake answered 429 once");
        if (limit.announcedMs !== undefined) {
          assert.ok(
            reply.at - refusedAt >= limit.announcedMs - RETRY_MARGIN_MS,
            `waited ${reply.at - refusedAt} ms after the 429; the platform asked for ${limit.announcedMs}`,
          );
        } else
          t.diagnostic(`${driver.channel}'s 429 announces no retry-after: the wait itself is not checked`);
        await roundTrip();
        assert.equal(shown(`echo: ${text}`).length, 1, "delivered once");
      },
    );

    const failNext = driver.failNextSendPermanently;
    it(
      "a permanent 4xx dead-letters the delivery",
      "skip" in failNext ? { skip: failNext.skip } : {},
      async () => {
        if ("skip" in failNext) return;
        failNext();
        const key = `contract-dead-${++n}`;
        const text = unique("dead");
        const { id } = await gw.gateway.deliver(driver.address(), { text }, key);
        const item = await waitFor(
          async () => {
            const i = await gw.gateway.store.getOutbound(id);
            return i && i.state !== "pending" && i.state !== "leased" ? i : undefined;
          },
          WAIT,
          "the delivery to finish",
        );
        assert.equal(item.state, "dead", `dead-lettered (${item.lastError})`);
        assert.ok((await gw.gateway.store.listOutbound({ state: "dead" })).some((i) => i.id === item.id));
        assert.equal(shown(text).length, 0, "nothing reached the user");
        await roundTrip();
      },
    );

    it(
      "long replies are chunked at the channel's limit on safe boundaries",
      driver.chunking ?? {},
      async () => {
        const text = unique("long");
        const body = words(Math.ceil((caps.maxTextLength * 2.5) / 7));
        assert.ok(body.length > caps.maxTextLength * 2);
        long.set(text, body);
        const firstWord = tokens(body)[0]!;
        const lastWord = tokens(body).at(-1)!;
        const before = driver.messages().length;
        await driver.sendText(text);
        await waitFor(
          () => driver.messages().some((m) => tokens(m.text).at(-1) === lastWord),
          WAIT,
          "the last chunk",
        );
        const all = driver.messages().slice(before);
        const start = all.findIndex((m) => tokens(m.text)[0] === firstWord);
        const end = all.findIndex((m) => tokens(m.text).at(-1) === lastWord);
        assert.ok(start >= 0 && end >= start, "the chunks are in order");
        const chunks = all.slice(start, end + 1).map((m) => m.text);
        assert.ok(chunks.length >= 3, `split into ${chunks.length} messages`);
        for (const c of chunks)
          assert.ok(c.length <= caps.maxTextLength, `a chunk of ${c.length} > ${caps.maxTextLength}`);
        assert.deepEqual(tokens(chunks.join("\n")), tokens(body), "text preserved, no word cut");
      },
    );

    it("buttons round-trip", async (t) => {
      if (!caps.buttons) return t.skip(`${driver.channel} declares no buttons`);
      const press = driver.pressButton;
      if ("skip" in press) return t.skip(press.skip);
      await driver.sendText("/pick");
      const msg = await waitFor(
        () => driver.messages().findLast((m) => m.buttons.some((b) => b.label === "Alpha")),
        WAIT,
        "a message with the buttons",
      );
      assert.deepEqual(
        msg.buttons.map((b) => b.label),
        ["Alpha", "Beta"],
      );
      const before = shown("picked alpha").length;
      const status = await press(msg, msg.buttons.find((b) => b.label === "Alpha")!);
      assert.ok(status >= 200 && status < 300, `the press is acknowledged, got ${status}`);
      await waitFor(() => shown("picked alpha").length > before, WAIT, "the button's answer");
    });

    it("streamed previews stay well-formed: within the limit, never half a surrogate pair", async (t) => {
      if (!caps.edit) return t.skip(`${driver.channel} declares no edits: no previews`);
      if (!driver.allTexts) return t.skip("the driver does not list intermediate texts");
      const text = unique("preview");
      // Emoji straddle maxTextLength minus 2, 4 and 6: where a preview cut for a cursor of that length falls.
      const body = `${"a".repeat(caps.maxTextLength - 7)}${"🙂".repeat(4)}${"b".repeat(caps.maxTextLength)}`;
      long.set(text, body);
      const saved = { ...agent.options };
      agent.options = { ...saved, chunkSize: Math.ceil(body.length / 40), chunkDelayMs: 100 };
      try {
        await driver.sendText(text);
        await waitFor(
          () => driver.messages().some((m) => m.text.endsWith("b".repeat(50))),
          WAIT,
          "the end of the reply",
        );
      } finally {
        agent.options = saved;
      }
      const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
      for (const shown of driver.allTexts()) {
        assert.ok(shown.length <= caps.maxTextLength, `a text of ${shown.length} > ${caps.maxTextLength}`);
        assert.ok(!lone.test(shown), `half a surrogate pair in a text of ${shown.length}`);
      }
    });

    it("edits happen only where the channel declares them", async () => {
      const text = unique("stream");
      const body = `streamed ${words(60)}`;
      long.set(text, body);
      const edits = driver.editCount();
      const saved = { ...agent.options };
      // Long enough a stream that a channel that edits shows a preview first.
      agent.options = { ...saved, chunkSize: 8, chunkDelayMs: 60 };
      try {
        await driver.sendText(text);
        await waitFor(() => shown(body).length > 0, WAIT, "the full reply shown");
      } finally {
        agent.options = saved;
      }
      if (caps.edit) {
        assert.ok(driver.editCount() > edits, "a channel that edits streamed the reply by edits");
      } else {
        assert.equal(driver.editCount(), edits, "no edit requests from a channel without edits");
      }
      await roundTrip();
      assert.equal(shown(body).length, 1, "one message shows the reply");
    });
  });
}
