// Property tests for the parsers not covered beside their channels: WeChat's XML (hardened parser and the
// builder used for passive replies), the WeChat message normalizer and Twilio's form normalizer. Whatever a
// platform (or an attacker with a valid signature) sends, the parser answers with a value or its own error,
// and an event never carries an id, sender or conversation that is empty or made up.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { normalizeSms } from "../../src/channels/sms/ingress.ts";
import { normalizeWechat } from "../../src/channels/wechat/ingress.ts";
import {
  buildWechatXml,
  MalformedXmlError,
  parseWechatXml,
  UnsafeXmlError,
} from "../../src/channels/wechat/xml.ts";

const xmlish = fc.stringMatching(/^[<>/!?xml[\]CDATA -~\u00e9\u4e2d]{0,200}$/);

test("WeChat XML: any input is parsed or refused with the parser's own error, never a crash", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), xmlish, fc.string({ unit: "binary" })), (raw) => {
      try {
        const msg = parseWechatXml(raw);
        assert.equal(typeof msg, "object");
      } catch (err) {
        assert.ok(
          err instanceof MalformedXmlError || err instanceof UnsafeXmlError,
          `unexpected ${(err as Error).name}: ${(err as Error).message}`,
        );
      }
    }),
    { numRuns: 3000 },
  );
});

// Text WeChat can carry: XML 1.0 characters (no C0 controls but tab and newline, no lone surrogates).
const validXmlChar = (ch: string) => {
  const c = ch.codePointAt(0)!;
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    c > 0xffff
  );
};
const xmlText = fc
  .array(
    fc.oneof(
      fc.constantFrom("\t", "\n", "]]>", "<", "&", "]"),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    ),
    {
      maxLength: 20,
    },
  )
  .map((parts) => [...parts.join("")].filter(validXmlChar).join(""));
const fieldName = fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,15}$/);

test("WeChat XML: what the builder writes, the parser reads back (CDATA with ]]> inside included)", () => {
  fc.assert(
    fc.property(fc.dictionary(fieldName, xmlText, { minKeys: 1, maxKeys: 8 }), (fields) => {
      const back = parseWechatXml(buildWechatXml(fields));
      for (const [k, v] of Object.entries(fields)) {
        assert.equal(String(back[k] ?? "").trim(), v.trim(), `field ${k}`);
      }
    }),
    { numRuns: 2000 },
  );
  // The fixed case that CDATA escaping exists for.
  assert.equal(parseWechatXml(buildWechatXml({ Content: "a]]>b" })).Content, "a]]>b");
});

const anyValue = fc.oneof(fc.string(), fc.integer().map(String), fc.constant(""), fc.constant("undefined"));
const wechatMessage = fc.record(
  {
    FromUserName: anyValue,
    ToUserName: anyValue,
    MsgType: fc.oneof(fc.constantFrom("text", "image", "voice", "event", "location", ""), fc.string()),
    MsgId: anyValue,
    CreateTime: anyValue,
    Content: fc.string(),
    Event: fc.constantFrom("CLICK", "click", "subscribe", ""),
    EventKey: fc.string(),
    Recognition: fc.string(),
  },
  { requiredKeys: [] },
);

test("WeChat normalizer: any message is an event, ignored or 'malformed'; never an empty id or sender", () => {
  fc.assert(
    fc.property(fc.oneof(wechatMessage, fc.dictionary(fc.string(), fc.anything())), (msg) => {
      const ev = normalizeWechat(msg as Record<string, unknown>, "default");
      if (ev === undefined || ev === "malformed") return;
      assert.match(ev.id, /^wechat:default:.+/);
      assert.ok(ev.sender.id.length > 0 && ev.conversation.id.length > 0);
      assert.ok(!ev.id.endsWith(":"), ev.id);
    }),
    { numRuns: 3000 },
  );
});

test("Twilio normalizer: any form is an event or nothing; ids and senders are never empty", () => {
  const form = fc.dictionary(
    fc.oneof(
      fc.constantFrom("MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0"),
      fc.string(),
    ),
    fc.oneof(fc.string(), fc.constant(""), fc.integer({ min: -5, max: 50 }).map(String)),
  );
  fc.assert(
    fc.property(form, (fields) => {
      const ev = normalizeSms(new URLSearchParams(fields), "default");
      if (!ev) return;
      assert.match(ev.id, /^sms:default:.+/);
      assert.ok(ev.sender.id.length > 0 && ev.conversation.id.length > 0);
      assert.ok(ev.attachments.length <= 10);
    }),
    { numRuns: 3000 },
  );
});
