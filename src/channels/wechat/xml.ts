// WeChat speaks XML. The parser is hardened: DOCTYPE/ENTITY refused before parsing (no entity expansion, no
// external entities), size capped, and the parsed tree bounded in depth and field count; values stay strings.
import { XMLParser, XMLValidator } from "fast-xml-parser";

export const MAX_XML_BYTES = 64 * 1024;
const MAX_DEPTH = 6;
const MAX_FIELDS = 100;

export class UnsafeXmlError extends Error {}
export class MalformedXmlError extends Error {}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true,
});

/** Parses `<xml>…</xml>` into a flat record of strings (nested elements stay objects). */
export function parseWechatXml(raw: Buffer | string): Record<string, unknown> {
  const text = typeof raw === "string" ? raw : raw.toString("utf8");
  if (Buffer.byteLength(text) > MAX_XML_BYTES)
    throw new UnsafeXmlError(`XML larger than ${MAX_XML_BYTES} bytes`);
  if (/<!\s*(DOCTYPE|ENTITY)/i.test(text)) throw new UnsafeXmlError("XML with DOCTYPE or ENTITY is refused");
  if (XMLValidator.validate(text) !== true) throw new MalformedXmlError("body is not well-formed XML");
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    throw new MalformedXmlError("body is not well-formed XML");
  }
  checkBounds(doc);
  const root = (doc as Record<string, unknown>).xml;
  if (!root || typeof root !== "object" || Array.isArray(root)) {
    throw new MalformedXmlError("expected a single <xml> root element with fields");
  }
  return root as Record<string, unknown>;
}

function checkBounds(doc: unknown) {
  let fields = 0;
  const walk = (v: unknown, depth: number) => {
    if (depth > MAX_DEPTH) throw new UnsafeXmlError(`XML nested deeper than ${MAX_DEPTH} levels`);
    if (v === null || typeof v !== "object") return;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (++fields > MAX_FIELDS) throw new UnsafeXmlError(`XML with more than ${MAX_FIELDS} fields`);
      walk(child, depth + 1);
    }
  };
  walk(doc, 0);
}

/** A field as a string ("" when missing or not text). */
export function field(msg: Record<string, unknown>, name: string): string {
  const v = msg[name];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

const cdata = (s: string) => `<![CDATA[${s.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;

/** Builds `<xml>` with string fields in CDATA and numbers bare, in the given order. */
export function buildWechatXml(fields: Record<string, string | number>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === "number" ? v : cdata(v)}</${k}>`)
    .join("");
  return `<xml>${body}</xml>`;
}
