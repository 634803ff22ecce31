// The Telegram normalizer on its own: whatever JSON arrives, it never throws and never produces an event id with
// "undefined" or an empty sender or conversation; it reads send times, anonymous admins and channel senders.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { GROUP_ANONYMOUS_BOT_ID, normalizeUpdate } from "../../src/channels/telegram/normalize.ts";

const OPTS = {
  account: "default",
  bot: { id: 111111, username: "clawgate_test_bot" },
  requireMention: false,
};
const NOW_SEC = 1_800_000_000;

const junk = fc.oneof(fc.anything(), fc.constant(null), fc.constant(undefined), fc.string(), fc.double());
/** Mostly the right type, sometimes anything at all: reaches deep into the normalizer and breaks it there. */
const maybe = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 60, arbitrary: a as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: junk });
const idArb = fc.oneof(fc.integer(), fc.constantFrom(0, -1001234567890, 42, 111111, GROUP_ANONYMOUS_BOT_ID));
const user = fc.record(
  {
    id: maybe(idArb),
    is_bot: maybe(fc.boolean()),
    first_name: maybe(fc.string()),
    username: maybe(fc.string()),
  },
  { requiredKeys: ["id"] },
);
const chat = fc.record(
  {
    id: maybe(idArb),
    type: maybe(fc.constantFrom("private", "group", "supergroup", "channel", "other")),
    title: maybe(fc.string()),
  },
  { requiredKeys: ["id", "type"] },
);
const entity = fc.record(
  {
    type: maybe(fc.constantFrom("mention", "text_mention", "bold")),
    offset: maybe(fc.nat(40)),
    length: maybe(fc.nat(40)),
    user: maybe(user),
  },
  { requiredKeys: ["type", "offset", "length"] },
);
const file = fc.record(
  {
    file_id: maybe(fc.string({ minLength: 1 })),
    file_name: maybe(fc.string()),
    mime_type: maybe(fc.string()),
  },
  { requiredKeys: ["file_id"] },
);
const photo = fc.record(
  {
    file_id: maybe(fc.string({ minLength: 1 })),
    width: maybe(fc.nat()),
    height: maybe(fc.nat()),
    file_size: maybe(fc.nat()),
  },
  { requiredKeys: ["file_id", "width", "height"] },
);
const message = fc.record(
  {
    message_id: maybe(idArb),
    message_thread_id: maybe(idArb),
    is_topic_message: maybe(fc.boolean()),
    is_automatic_forward: maybe(fc.boolean()),
    from: maybe(user),
    sender_chat: maybe(chat),
    chat: maybe(chat),
    date: maybe(fc.integer({ min: 0, max: 2 * NOW_SEC })),
    text: maybe(fc.string()),
    caption: maybe(fc.string()),
    entities: maybe(fc.array(maybe(entity), { maxLength: 3 })),
    caption_entities: maybe(fc.array(maybe(entity), { maxLength: 3 })),
    reply_to_message: maybe(
      fc.record({ message_id: maybe(idArb), from: maybe(user) }, { requiredKeys: ["message_id"] }),
    ),
    photo: maybe(fc.array(maybe(photo), { maxLength: 3 })),
    document: maybe(file),
    voice: maybe(file),
  },
  { requiredKeys: ["message_id", "chat", "from"] },
);
const update = fc.record(
  {
    update_id: maybe(fc.nat()),
    message: maybe(message),
    callback_query: maybe(
      fc.record(
        {
          id: maybe(fc.string({ minLength: 1 })),
          from: maybe(user),
          message: maybe(message),
          data: maybe(fc.string()),
        },
        { requiredKeys: ["id", "from"] },
      ),
    ),
  },
  { requiredKeys: ["update_id"] },
);

function checkInvariants(raw: unknown) {
  const r = normalizeUpdate(raw, OPTS);
  if (r.kind !== "event") return;
  const e = r.event;
  assert.match(e.id, /^telegram:default:-?\d+$/);
  assert.match(e.sender.id, /^-?\d+$/, "sender id");
  assert.match(e.conversation.id, /^-?\d+$/, "conversation id");
  assert.equal(typeof e.text, "string");
  if (e.sentAt !== undefined) assert.ok(Number.isFinite(e.sentAt) && e.sentAt > 0);
  assert.ok(!JSON.stringify({ ...e, native: undefined }).includes("undefined"));
}

/** A readable private message, to vary one field at a time. */
function msg(extra: Record<string, unknown> = {}) {
  return {
    update_id: 5,
    message: {
      message_id: 1,
      from: { id: 42, is_bot: false, first_name: "Ann" },
      chat: { id: 42, type: "private" },
      date: NOW_SEC,
      text: "hi",
      ...extra,
    },
  };
}

describe("telegram normalizer", () => {
  test("property: arbitrary update JSON never throws and never yields an unusable id", () => {
    fc.assert(fc.property(update, checkInvariants), { numRuns: 4000 });
    fc.assert(fc.property(fc.jsonValue(), checkInvariants), { numRuns: 2000 });
    fc.assert(fc.property(fc.anything(), checkInvariants), { numRuns: 2000 });
  });

  test("what the fuzzer broke: wrong field types are reported as unreadable, with the update id", () => {
    for (const bad of [
      msg({ text: 5 }),
      msg({ entities: "x" }),
      msg({ photo: [null] }),
      msg({ chat: null }),
      msg({ from: { id: "42" } }),
      { update_id: 6, callback_query: { id: "", from: { id: 1 }, data: "x" } },
    ]) {
      const r = normalizeUpdate(bad, OPTS);
      assert.equal(r.kind, "unreadable", JSON.stringify(bad));
      assert.equal((r as { updateId?: number }).updateId, bad.update_id);
    }
    assert.deepEqual(normalizeUpdate(null, OPTS), {
      kind: "unreadable",
      reason: "(update): Invalid input: expected object, received null",
    });
    assert.equal(normalizeUpdate({ update_id: 7, edited_message: {} }, OPTS).kind, "ignored");
  });

  test("sentAt is Telegram's date in ms; a button press takes no time from the message under it", () => {
    const r = normalizeUpdate(msg(), OPTS);
    assert.equal(r.kind === "event" && r.event.sentAt, NOW_SEC * 1000);
    const press = normalizeUpdate(
      {
        update_id: 8,
        callback_query: {
          id: "cbq",
          from: { id: 42, is_bot: false, first_name: "Ann" },
          data: "v",
          message: { message_id: 3, chat: { id: 42, type: "private" }, date: NOW_SEC - 30 * 86_400 },
        },
      },
      OPTS,
    );
    assert.equal(press.kind, "event");
    assert.equal(press.kind === "event" && press.event.sentAt, undefined);
  });

  test("an anonymous admin speaks as the group; a post as a channel is the channel's; automatic forwards are not for us", () => {
    const group = { id: -100555, type: "supergroup", title: "Ops room" };
    const anon = normalizeUpdate(
      msg({
        chat: group,
        sender_chat: group,
        from: {
          id: GROUP_ANONYMOUS_BOT_ID,
          is_bot: true,
          first_name: "Group",
          username: "GroupAnonymousBot",
        },
      }),
      OPTS,
    );
    assert.equal(anon.kind, "event");
    if (anon.kind === "event")
      assert.deepEqual(anon.event.sender, { id: "-100555", name: "Ops room", isBot: false });
    const channel = { id: -100999, type: "channel", title: "News" };
    const asChannel = normalizeUpdate(
      msg({
        chat: group,
        sender_chat: channel,
        from: { id: 136817688, is_bot: true, first_name: "Channel" },
      }),
      OPTS,
    );
    assert.equal(asChannel.kind === "event" && asChannel.event.sender.id, "-100999");
    const forward = normalizeUpdate(
      msg({
        chat: group,
        sender_chat: channel,
        is_automatic_forward: true,
        from: { id: 777000, is_bot: false, first_name: "Telegram" },
      }),
      OPTS,
    );
    assert.equal(forward.kind, "ignored");
  });
});
