// The LINE normalizer and message format on their own: any JSON an event may hold is read or skipped, never
// thrown on, and never becomes an event without a usable id, sender or conversation; cuts never halve an emoji.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { textMessage, withQuickReplies } from "../../src/channels/line/format.ts";
import { type LineRead, normalizeLineEvent } from "../../src/channels/line/ingress.ts";
import { lineId, lineTextEvent } from "../fakes/line.ts";

const ALICE = lineId("U", "alice");
const opts = { account: "default", requireMention: false, now: 1_700_000_000_000 };

/**
 * What every event handed to the gateway must have: its id, sender and conversation are the event's own
 * non-blank strings, never an empty or made-up value like "undefined".
 */
function assertUsable(raw: unknown, read: LineRead) {
  if (read.kind !== "event") return;
  const e = read.event;
  const r = raw as { webhookEventId: string; source: Record<string, unknown> };
  assert.equal(e.id, `line:default:${r.webhookEventId}`);
  assert.ok(r.webhookEventId.trim().length > 0);
  assert.ok([r.source.userId, r.source.groupId, r.source.roomId].includes(e.conversation.id));
  assert.ok(e.conversation.id.trim().length > 0);
  assert.ok(e.sender.id === r.source.userId || (e.sender.id === "unknown" && r.source.userId === undefined));
  assert.ok(e.sender.id.trim().length > 0);
  assert.equal(typeof e.text, "string");
  if (e.sentAt !== undefined) assert.ok(Number.isFinite(e.sentAt));
}

function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

describe("line normalizer: fixed cases", () => {
  it("mention.mentionees that is not a list is unreadable, not a TypeError", () => {
    const e = lineTextEvent({ text: "@bot hi", userId: ALICE });
    (e.message as Record<string, unknown>).mention = { mentionees: { index: 0, length: 4, isSelf: true } };
    const read = normalizeLineEvent(e, opts);
    assert.equal(read.kind, "unreadable");
    assert.ok(read.kind === "unreadable" && read.problems.some((p) => p.includes("mentionees")));
  });

  it("an event without webhookEventId is 'unidentified', with type and source to log and no secrets", () => {
    const { webhookEventId: _, ...e } = lineTextEvent({
      text: "secret text",
      userId: ALICE,
      replyToken: "tok",
    });
    const read = normalizeLineEvent(e, opts);
    assert.equal(read.kind, "unidentified");
    assert.ok(read.kind === "unidentified");
    assert.equal(read.summary.type, "message");
    assert.deepEqual(read.summary.source, {
      type: "user",
      userId: ALICE,
      groupId: undefined,
      roomId: undefined,
    });
    const logged = JSON.stringify(read.summary);
    assert.ok(!logged.includes("secret text") && !logged.includes("tok"));
  });

  it("sentAt is LINE's timestamp; the reply token's age is measured from it", () => {
    const e = {
      ...lineTextEvent({ text: "hi", userId: ALICE, replyToken: "r" }),
      timestamp: 1_600_000_000_000,
    };
    const read = normalizeLineEvent(e, opts);
    assert.ok(read.kind === "event");
    assert.equal(read.event.sentAt, 1_600_000_000_000);
    assert.equal(read.event.replyContext?.replyTokenAt, 1_600_000_000_000);
  });

  it("the event keeps LINE's ids, not the whole payload: the text is stored once", () => {
    const raw = lineTextEvent({ text: "only once, please", userId: ALICE, replyToken: "r" });
    const read = normalizeLineEvent(raw, opts);
    assert.ok(read.kind === "event");
    assert.deepEqual(read.event.native, {
      webhookEventId: raw.webhookEventId,
      type: "message",
      messageId: (raw.message as { id: string }).id,
    });
    assert.equal(JSON.stringify(read.event).split("only once, please").length, 2);
  });

  it("a postback carries its displayText as text, and its data as the action", () => {
    const read = normalizeLineEvent(
      {
        type: "postback",
        webhookEventId: "01HPB",
        timestamp: 1,
        source: { type: "user", userId: ALICE },
        postback: { data: "action=buy", displayText: " /help " },
      },
      opts,
    );
    assert.ok(read.kind === "event");
    assert.equal(read.event.text, "/help");
    assert.deepEqual(read.event.action, { id: "01HPB", value: "action=buy" });
  });

  it("empty or blank ids, a source without its id and non-object events are skipped", () => {
    const good = lineTextEvent({ text: "hi", userId: ALICE });
    for (const e of [
      { ...good, webhookEventId: "" },
      { ...good, webhookEventId: "   " },
      { ...good, source: { type: "user", userId: "" } },
      { ...good, source: { type: "group", userId: ALICE } },
      { ...good, source: null },
      { ...good, message: { type: "text", text: 5 } },
      null,
      [],
      "event",
    ]) {
      const read = normalizeLineEvent(e, opts);
      assert.notEqual(read.kind, "event", JSON.stringify(e));
    }
  });
});

// Values that look like LINE's fields, so the generator reaches deep into the schema, mixed with anything at all.
const anyJson = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(fc.oneof(a, anyJson), { nil: undefined });
const lineish = fc.record(
  {
    type: maybe(fc.constantFrom("message", "postback", "follow", "unsend")),
    mode: maybe(fc.constantFrom("active", "standby")),
    timestamp: maybe(fc.oneof(fc.integer(), fc.double())),
    webhookEventId: maybe(fc.string()),
    replyToken: maybe(fc.string()),
    source: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom("user", "group", "room")),
          userId: maybe(fc.string()),
          groupId: maybe(fc.string()),
          roomId: maybe(fc.string()),
        },
        { requiredKeys: [] },
      ),
    ),
    message: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom("text", "sticker")),
          text: maybe(fc.string()),
          mention: maybe(
            fc.record({
              mentionees: maybe(
                fc.array(
                  fc.record(
                    { index: maybe(fc.integer()), length: maybe(fc.integer()), isSelf: maybe(fc.boolean()) },
                    { requiredKeys: [] },
                  ),
                ),
              ),
            }),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    postback: maybe(
      fc.record({ data: maybe(fc.string()), displayText: maybe(fc.string()) }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: [] },
);

describe("line normalizer: properties", () => {
  it("any JSON value never throws and never yields an event without a usable id, sender or conversation", () => {
    fc.assert(
      fc.property(anyJson, (raw) => assertUsable(raw, normalizeLineEvent(raw, opts))),
      { numRuns: 2000 },
    );
  });

  it("LINE-shaped events with arbitrary field values likewise", () => {
    fc.assert(
      fc.property(lineish, fc.boolean(), (raw, requireMention) => {
        assertUsable(raw, normalizeLineEvent(raw, { ...opts, requireMention }));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("line format cuts", () => {
  it("an emoji at the 20-character label limit is dropped whole, never halved", () => {
    const label = `${"a".repeat(19)}😀 more`;
    const msg = withQuickReplies(textMessage("pick"), [{ label, data: "pick:x" }]);
    const action = (msg.quickReply as { items: { action: { label: string; displayText: string } }[] })
      .items[0]!.action;
    assert.equal(action.label, "a".repeat(19));
    assert.equal(action.displayText, label);
  });

  it("an emoji at the 5,000-character text limit is dropped whole", () => {
    const text = `${"x".repeat(4999)}👍🏽 and more`;
    const cut = String(textMessage(text).text);
    assert.equal(cut, "x".repeat(4999));
    assert.ok(!hasLoneSurrogate(cut));
  });

  it("property: no label or text cut leaves half a character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (label) => {
        const msg = withQuickReplies(textMessage(label || "x"), [{ label: label || "x", data: "d" }]);
        const action = (msg.quickReply as { items: { action: { label: string } }[] }).items[0]!.action;
        assert.ok(action.label.length <= 20);
        assert.ok(!hasLoneSurrogate(action.label), JSON.stringify(action.label));
      }),
      { numRuns: 1000 },
    );
  });
});
