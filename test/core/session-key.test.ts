import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { sessionKeyOf } from "../../src/core/event.ts";
import {
  addressFromSessionKey,
  escapeKeyPart,
  formatSessionKey,
  type ParsedSessionKey,
  parseSessionKey,
  unescapeKeyPart,
} from "../../src/core/session-key.ts";

it("parses channel:conversation with the default account", () => {
  assert.deepEqual(parseSessionKey("telegram:123456"), {
    channel: "telegram",
    account: "default",
    conversationId: "123456",
  });
});

it("parses channel:account:conversation[:thread] and Telegram topics", () => {
  assert.deepEqual(parseSessionKey("slack:work:C1:1700000000.1"), {
    channel: "slack",
    account: "work",
    conversationId: "C1",
    thread: "1700000000.1",
  });
  const topic = parseSessionKey("telegram:default:-100:topic:7");
  assert.equal(topic?.thread, "topic:7");
  assert.equal(formatSessionKey(topic!), "telegram:default:-100:topic:7");
});

it("rejects empty parts and unknown shapes", () => {
  for (const k of ["telegram", "telegram::1", "a:b:c:d:e:f", "a:b:c:topic:x", ""])
    assert.equal(parseSessionKey(k), undefined, k);
});

it("session keys from events include the thread", () => {
  const base = { channel: "discord", account: "default" };
  assert.equal(sessionKeyOf({ ...base, conversation: { id: "9", kind: "channel" } }), "discord:default:9");
  assert.equal(
    sessionKeyOf({ ...base, conversation: { id: "9", kind: "channel", thread: "t1" } }),
    "discord:default:9:t1",
  );
});

it("a Twilio WhatsApp sender (whatsapp:+1555…) goes back to the exact address it came from", () => {
  const key = sessionKeyOf({
    channel: "sms",
    account: "default",
    conversation: { id: "whatsapp:+15551234567", kind: "dm" },
  });
  assert.equal(key, "sms:default:whatsapp%3A+15551234567");
  assert.deepEqual(addressFromSessionKey(key), {
    channel: "sms",
    account: "default",
    conversationId: "whatsapp:+15551234567",
    thread: undefined,
  });
});

it("keys already stored keep their spelling: parts without ':' are written as they are, '%' included", () => {
  for (const key of [
    "telegram:default:-1001234:topic:42",
    "line:default:Ua1b2c3",
    "webchat:web:k2Jx_9-a",
    "kakao:default:50%off",
    "sms:default:+15551234567",
  ]) {
    const parsed = parseSessionKey(key)!;
    assert.equal(formatSessionKey(parsed), key);
  }
  assert.equal(parseSessionKey("kakao:default:50%off")?.conversationId, "50%off");
});

it("a '%' that would read as an escape is escaped itself", () => {
  assert.equal(escapeKeyPart("a%3Ab"), "a%253Ab");
  assert.equal(escapeKeyPart("%25"), "%2525");
  assert.equal(unescapeKeyPart("a%253Ab"), "a%3Ab");
  assert.equal(unescapeKeyPart("%3a"), ":");
  for (const p of ["%", "%%3A", "%:", "%3:", "%2:", "topic:x", "::", "%3%3A"])
    assert.equal(unescapeKeyPart(escapeKeyPart(p)), p, p);
});

it("property: format → parse is the identity for arbitrary parts", () => {
  const part = fc.oneof(
    fc.string({ minLength: 1 }),
    fc.string({ unit: fc.constantFrom(":", "%", "3", "A", "a", "2", "5", "x"), minLength: 1 }),
  );
  const thread = fc.option(
    fc.oneof(
      part,
      fc.nat().map((n) => `topic:${n}`),
    ),
    { nil: undefined },
  );
  fc.assert(
    fc.property(part, part, part, thread, (channel, account, conversationId, t) => {
      const k: ParsedSessionKey = { channel, account, conversationId, ...(t ? { thread: t } : {}) };
      const key = formatSessionKey(k);
      assert.deepEqual(parseSessionKey(key), k);
      const ev = sessionKeyOf({
        channel,
        account,
        conversation: { id: conversationId, kind: "dm", thread: t },
      });
      assert.equal(ev, key);
    }),
    { numRuns: 5000 },
  );
});

it("property: escaping never leaves a ':' and round-trips", () => {
  fc.assert(
    fc.property(fc.string(), (p) => {
      const e = escapeKeyPart(p);
      assert.ok(!e.includes(":"));
      assert.equal(unescapeKeyPart(e), p);
    }),
    { numRuns: 5000 },
  );
});
