// The Slack normalizers and Block Kit builder on their own: arbitrary payloads never throw and never give an id
// with "undefined" or an empty sender or conversation; ids from the payload are matched literally; cuts land
// between characters.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { BUTTON_LABEL_MAX, SECTION_MAX, slackBlocks } from "../../src/channels/slack/format.ts";
import {
  normalizeSlackAction,
  normalizeSlackEvent,
  type SlackNormalized,
} from "../../src/channels/slack/ingress.ts";

const OPTS = { account: "default", requireMention: true, replyInThread: true };
const NOW_SEC = 1_800_000_000;

const junk = fc.oneof(fc.anything(), fc.constant(null), fc.string(), fc.double(), fc.constant(""));
const maybe = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 30, arbitrary: a as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: junk });
const slackId = fc.oneof(
  fc.stringMatching(/^[UCDGB][A-Z0-9]{2,8}$/),
  fc.constantFrom("U(", "U)*+?[", "UBOT", "U\\"),
);
const ts = fc.integer({ min: 1, max: 2 * NOW_SEC }).map((s) => `${s}.000100`);
const file = fc.record(
  {
    id: maybe(fc.string()),
    name: maybe(fc.string()),
    mimetype: maybe(fc.constantFrom("image/png", "text/plain")),
    size: maybe(fc.nat()),
  },
  { requiredKeys: [] },
);
const event = fc.record(
  {
    type: maybe(fc.constantFrom("message", "app_mention", "reaction_added")),
    subtype: maybe(fc.constantFrom("file_share", "thread_broadcast", "message_changed", "bot_message")),
    user: maybe(slackId),
    bot_id: maybe(fc.constantFrom("B1", "")),
    channel: maybe(slackId),
    channel_type: maybe(fc.constantFrom("im", "channel", "mpim", "group")),
    text: maybe(
      fc.oneof(
        fc.string(),
        slackId.map((id) => `<@${id}> hi`),
      ),
    ),
    ts: maybe(ts),
    thread_ts: maybe(ts),
    files: maybe(fc.array(maybe(file), { maxLength: 3 })),
  },
  { requiredKeys: ["type", "user", "channel", "ts"] },
);
const envelope = fc.record(
  {
    type: fc.constant("event_callback"),
    event: maybe(event),
    event_time: maybe(fc.integer({ min: 0, max: 2 * NOW_SEC })),
    authorizations: maybe(
      fc.array(fc.record({ user_id: maybe(slackId), is_bot: maybe(fc.boolean()) }), { maxLength: 2 }),
    ),
  },
  { requiredKeys: ["type"] },
);
const blockActions = fc.record(
  {
    type: fc.constant("block_actions"),
    user: maybe(fc.record({ id: maybe(slackId) })),
    actions: maybe(
      fc.array(fc.record({ value: maybe(fc.string()), action_ts: maybe(ts) }, { requiredKeys: [] }), {
        maxLength: 2,
      }),
    ),
    channel: maybe(fc.record({ id: maybe(slackId) })),
    container: maybe(
      fc.record(
        { channel_id: maybe(slackId), message_ts: maybe(ts), thread_ts: maybe(ts) },
        { requiredKeys: [] },
      ),
    ),
    message: maybe(fc.record({ ts: maybe(ts), thread_ts: maybe(ts) }, { requiredKeys: [] })),
  },
  { requiredKeys: ["type"] },
);

function checkInvariants(r: SlackNormalized) {
  if (r.kind !== "event") return;
  const e = r.event;
  assert.match(e.id, /^slack:default:(action:)?[^:]+:[^:]+/);
  assert.ok(e.sender.id, "sender id");
  assert.ok(e.conversation.id, "conversation id");
  assert.ok(!e.id.includes("undefined") && !e.id.includes("::"), e.id);
  assert.ok(e.conversation.thread === undefined || e.conversation.thread !== "");
  if (e.sentAt !== undefined) assert.ok(Number.isFinite(e.sentAt) && e.sentAt > 0);
}

const asRecord = (v: unknown) => (typeof v === "object" && v !== null ? v : { v }) as Record<string, unknown>;

describe("slack normalizers", () => {
  test("property: arbitrary event_callback and block_actions payloads never throw, never give unusable ids", () => {
    fc.assert(
      fc.property(envelope, (p) => checkInvariants(normalizeSlackEvent(p, OPTS))),
      { numRuns: 4000 },
    );
    fc.assert(
      fc.property(blockActions, (p) => checkInvariants(normalizeSlackAction(p, OPTS))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.anything(), (p) => {
        checkInvariants(normalizeSlackEvent({ type: "event_callback", event: p }, OPTS));
        checkInvariants(normalizeSlackAction(asRecord(p), OPTS));
      }),
      { numRuns: 2000 },
    );
  });

  test("the event keeps Slack's ids, not the envelope: the text is stored once, the blocks not at all", () => {
    const text = "only once, please";
    const payload = {
      type: "event_callback",
      event_id: "Ev1",
      team_id: "T1",
      event: {
        type: "message",
        channel: "D1",
        channel_type: "im",
        user: "UALICE",
        ts: "1.2",
        text,
        blocks: [
          {
            type: "rich_text",
            elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }],
          },
        ],
      },
    };
    const r = normalizeSlackEvent(payload, OPTS);
    assert.ok(r.kind === "event");
    assert.deepEqual(r.event.native, { event_id: "Ev1", team_id: "T1", channel: "D1", ts: "1.2" });
    assert.equal(JSON.stringify(r.event).split(text).length, 2);
  });

  test("a bot id with regular-expression characters is matched as itself", () => {
    const payload = {
      type: "event_callback",
      authorizations: [{ user_id: "U(", is_bot: true }],
      event: { type: "message", channel: "CGEN", user: "UALICE", ts: "1.2", text: "<@U(> hello" },
    };
    const r = normalizeSlackEvent(payload, OPTS);
    assert.equal(r.kind, "event");
    if (r.kind === "event") {
      assert.equal(r.event.text, "hello");
      assert.equal(r.event.addressed, true, "mentioned");
    }
    const other = normalizeSlackEvent(
      { ...payload, event: { ...payload.event, text: "<@UX> hello" } },
      { ...OPTS, botUserId: "U.*" },
    );
    assert.equal(other.kind === "event" && other.event.addressed, false, "U.* does not match every user");
  });

  test("malformed fields are unreadable (with the path), never a crash; other event types are ignored", () => {
    const base = { type: "message", channel: "CGEN", user: "UALICE", ts: "1.2" };
    const read = (event: unknown) => normalizeSlackEvent({ type: "event_callback", event }, OPTS);
    assert.deepEqual(read({ ...base, files: [null] }).kind, "unreadable");
    assert.match(
      (read({ ...base, files: [{ mimetype: 5 }] }) as { reason: string }).reason,
      /event\.files\.0/,
    );
    assert.equal(read({ ...base, channel: "" }).kind, "unreadable");
    assert.equal(read({ ...base, ts: 1.2 }).kind, "unreadable");
    assert.equal(read("nope").kind, "unreadable");
    // Found by the property test: a ":" in an id made "slack:default:::1.000100".
    assert.equal(read({ ...base, channel: ":" }).kind, "unreadable");
    assert.equal(read({ ...base, ts: "1:2" }).kind, "unreadable");
    assert.equal(read({ type: "user_change", user: { id: "U1" } }).kind, "ignored");
    assert.equal(read({ ...base, bot_id: "B1", user: undefined }).kind, "ignored");
  });

  test("sentAt is the envelope's event_time in ms", () => {
    const r = normalizeSlackEvent(
      {
        type: "event_callback",
        event_time: NOW_SEC,
        event: { type: "message", channel: "DALICE", user: "UALICE", ts: "1.2", text: "x" },
      },
      OPTS,
    );
    assert.equal(r.kind === "event" && r.event.sentAt, NOW_SEC * 1000);
  });
});

describe("slack blocks", () => {
  test("button labels and sections are cut between characters, never inside an emoji", () => {
    const label = `${"x".repeat(BUTTON_LABEL_MAX - 1)}😀 more`;
    const text = `${"y".repeat(SECTION_MAX - 1)}😀${"z".repeat(10)}`;
    const blocks = slackBlocks(text, [{ label, value: "v" }]) as {
      type: string;
      text?: { text: string };
      elements?: { text: { text: string } }[];
    }[];
    const sections = blocks.filter((b) => b.type === "section").map((b) => b.text!.text);
    assert.deepEqual(sections, ["y".repeat(SECTION_MAX - 1), `😀${"z".repeat(10)}`]);
    assert.equal(sections.join(""), text, "nothing is lost between sections");
    const button = blocks.find((b) => b.type === "actions")!.elements![0]!;
    assert.equal(button.text.text, "x".repeat(BUTTON_LABEL_MAX - 1));
  });
});
