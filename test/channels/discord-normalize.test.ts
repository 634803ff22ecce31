// The Discord normalizer on arbitrary input: it never throws, and whatever it accepts has a real platform id,
// sender and conversation (two unreadable events must never share an id like "discord:default:undefined"). The
// inputs that used to throw a TypeError are kept as fixed cases.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type DiscordNormalizeOptions,
  normalizeInteraction,
  normalizeMessage,
} from "../../src/channels/discord/normalize.ts";
import { snowflakeTime } from "../../src/channels/discord/schema.ts";
import type { InboundEvent } from "../../src/core/event.ts";

const BOT = "123456789012345678";
const options = (invalid: string[] = []): DiscordNormalizeOptions => ({
  account: "default",
  botId: BOT,
  requireMention: false,
  now: 1_700_000_000_000,
  onInvalid: (reason) => invalid.push(reason),
});

const VALID = {
  id: "1180000000000000001",
  channel_id: "800000000000000001",
  author: { id: "500", username: "ann" },
  content: "hello",
  mentions: [],
  attachments: [],
};

function assertSane(e: InboundEvent) {
  assert.match(e.id, /^discord:default:(interaction:)?\d{1,20}$/);
  assert.match(e.sender.id, /^\d{1,20}$/);
  assert.match(e.conversation.id, /^\d{1,20}$/);
  assert.equal(typeof e.text, "string");
  assert.ok(Number.isFinite(e.sentAt));
  for (const a of e.attachments) assert.equal(typeof a.url, "string");
}

test("sentAt is the snowflake's time (Discord's documented example)", () => {
  assert.equal(snowflakeTime("175928847299117063"), 1462015105796);
  const e = normalizeMessage({ ...VALID, id: "175928847299117063" }, options())!;
  assert.equal(e.sentAt, 1462015105796);
});

test("the payloads that used to throw are read or skipped with a reason", () => {
  const cases: [string, Record<string, unknown>, "read" | "skipped"][] = [
    ["content is a number", { content: 5 }, "skipped"],
    ["content is null", { content: null }, "skipped"],
    ["mentions is a string", { mentions: "everyone" }, "read"],
    ["mentions is an object", { mentions: { id: BOT } }, "read"],
    ["a mention is null", { mentions: [null] }, "read"],
    ["attachments is an object", { attachments: { id: "1" } }, "read"],
    ["an attachment is null or has no url", { attachments: [null, { id: "1" }] }, "read"],
    ["the referenced message is a string", { referenced_message: "x" }, "read"],
    ["message_reference is a number", { message_reference: 5 }, "read"],
    ["no id", { id: undefined }, "skipped"],
    ["a non-numeric id", { id: "abc" }, "skipped"],
    ["no channel", { channel_id: undefined }, "skipped"],
    ["an author without id", { author: { username: "x" } }, "skipped"],
    ["a numeric author id", { author: { id: 500 } }, "skipped"],
  ];
  for (const [what, patch, expected] of cases) {
    const invalid: string[] = [];
    const e = normalizeMessage({ ...VALID, ...patch }, options(invalid));
    if (expected === "read") {
      assert.ok(e, what);
      assertSane(e);
      assert.deepEqual(e.attachments, [], what);
      assert.equal(e.text, "hello", what);
    } else {
      assert.equal(e, undefined, what);
      assert.equal(invalid.length, 1, `${what}: the reason is reported`);
    }
  }
  for (const raw of [null, 5, "x", [], {}]) assert.equal(normalizeMessage(raw, options()), undefined);
});

test("interactions with unreadable parts are skipped with a reason", () => {
  const base = {
    id: "1180000000000000002",
    application_id: BOT,
    token: "tok",
    channel_id: "800000000000000001",
  };
  const user = { id: "500", username: "ann" };
  const cases: Record<string, unknown>[] = [
    { ...base, type: 2, user, data: { name: 5 } },
    { ...base, type: 2, data: { name: "help" } },
    { ...base, type: 2, member: { user: null }, data: { name: "help" } },
    { ...base, type: 3, user, data: { custom_id: 5 } },
    { ...base, type: 3, user, token: "", data: { custom_id: "x" } },
    { ...base, type: 2, user, channel_id: undefined, data: { name: "help" } },
  ];
  for (const raw of cases) {
    const invalid: string[] = [];
    assert.equal(normalizeInteraction(raw, options(invalid)), undefined, JSON.stringify(raw));
    assert.equal(invalid.length, 1);
  }
  // Options that are not a list read as no arguments.
  const e = normalizeInteraction(
    { ...base, type: 2, user, data: { name: "help", options: "x" } },
    options(),
  )!;
  assert.equal(e.text, "/help");
  assert.equal(e.command?.name, "/help");
});

test("a slash command becomes the typed command line, from the member in a guild", () => {
  const e = normalizeInteraction(
    {
      id: "1180000000000000003",
      application_id: BOT,
      token: "tok",
      type: 2,
      channel_id: "800000000000000002",
      guild_id: "700000000000000001",
      member: { user: { id: "501", username: "bo", global_name: "Bo" } },
      data: { name: "run", type: 1, options: [{ name: "args", type: 3, value: ' steps=20 "a cat" ' }] },
    },
    options(),
  )!;
  assert.equal(e.text, '/run steps=20 "a cat"');
  assert.deepEqual([e.command?.name, e.command?.kv.steps, e.command?.positional], ["/run", "20", ["a cat"]]);
  assert.deepEqual(e.sender, { id: "501", name: "Bo", isBot: false });
  assert.deepEqual(e.conversation, { id: "800000000000000002", kind: "group" });
  assert.equal(e.replyContext?.slash, true);
  assert.equal(e.addressed, true);
});

test("arbitrary JSON never throws, and what is accepted is sane", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const m = normalizeMessage(v, options());
      if (m) assertSane(m);
      const i = normalizeInteraction(v, options());
      if (i) assertSane(i);
    }),
    { numRuns: 2000 },
  );
});

test("a real message with any field replaced by arbitrary JSON never throws, and stays sane", () => {
  const keys = [...Object.keys(VALID), "guild_id", "referenced_message", "message_reference", "webhook_id"];
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.jsonValue(), fc.constant(undefined)), {
        maxKeys: 3,
      }),
      fc.constantFrom<unknown>(null, [], [null], [{ id: 5 }], [{ id: "1", url: "" }], "x", {}),
      (patch, list) => {
        const raw = { ...VALID, attachments: list, ...patch };
        const m = normalizeMessage(raw, options());
        if (m) assertSane(m);
      },
    ),
    { numRuns: 3000 },
  );
});

test("an interaction with any field replaced by arbitrary JSON never throws, and stays sane", () => {
  const valid = {
    id: "1180000000000000004",
    application_id: BOT,
    token: "tok",
    type: 2,
    channel_id: "800000000000000001",
    user: { id: "500", username: "ann" },
    data: { name: "help", options: [{ name: "args", type: 3, value: "x" }] },
  };
  const keys = [...Object.keys(valid), "member", "guild_id"];
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...keys), fc.jsonValue(), { maxKeys: 2 }),
      fc.constantFrom(2, 3),
      (patch, type) => {
        const i = normalizeInteraction(
          { ...valid, type, data: { ...valid.data, custom_id: "x" }, ...patch },
          options(),
        );
        if (i) assertSane(i);
      },
    ),
    { numRuns: 3000 },
  );
});
