import assert from "node:assert/strict";
import { it } from "node:test";
import { sessionKeyOf } from "../../src/core/event.ts";
import { formatSessionKey, parseSessionKey } from "../../src/core/session-key.ts";

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
  for (const k of ["telegram", "telegram::1", "a:b:c:d:e:f", ""])
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
