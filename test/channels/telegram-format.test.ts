// Markdown → Telegram HTML is well-formed by construction: only Telegram's tags, properly nested, attributes
// quoted and escaped, everything else escaped, and the text a reader sees equals the plain render. Property
// tests over arbitrary and Markdown-heavy strings, plus the counterexamples fuzzing found.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  inlineKeyboard,
  markdownToPlainText,
  markdownToTelegramHtml,
  TELEGRAM_MAX_BUTTON_LABEL,
} from "../../src/channels/telegram/format.ts";

const TAGS = new Set(["b", "i", "s", "u", "code", "pre", "a", "blockquote"]);
const ENTITY: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/**
 * Reads `html` as Telegram's HTML parse mode would, strictly: allowed tags only, closed in order, `a` with a
 * quoted href and `code` with an optional language class as the only attributes, no raw `<`, `>` or bare `&`.
 * Returns the visible text, or throws saying what is wrong.
 */
function visibleText(html: string): string {
  const stack: string[] = [];
  let text = "";
  const tag = /<(\/?)([a-z-]+)((?: [a-z]+="[^"<>]*")*)>/y;
  const entity = /&(lt|gt|amp|quot);/y;
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === "<") {
      tag.lastIndex = i;
      const m = tag.exec(html);
      if (!m) throw new Error(`raw "<" at ${i}`);
      const [whole, close, name, attrs] = m;
      if (!TAGS.has(name!)) throw new Error(`tag <${name}> is not one Telegram knows`);
      if (close) {
        if (attrs) throw new Error(`closing tag </${name}> with attributes`);
        if (stack.pop() !== name) throw new Error(`</${name}> closes something else (misnested)`);
      } else {
        if (name === "a" && !/^ href="[^"]*"$/.test(attrs!))
          throw new Error(`<a> without one href: ${whole}`);
        if (name === "code" && attrs && !/^ class="language-[A-Za-z0-9_+-]+"$/.test(attrs))
          throw new Error(`odd attributes on <code>: ${whole}`);
        if (name !== "a" && name !== "code" && attrs) throw new Error(`attributes on <${name}>`);
        for (const v of attrs!.matchAll(/"([^"]*)"/g)) {
          if (/&(?!(lt|gt|amp|quot);)/.test(v[1]!)) throw new Error(`unescaped & in attribute: ${whole}`);
        }
        stack.push(name!);
      }
      i += whole.length;
    } else if (c === "&") {
      entity.lastIndex = i;
      const m = entity.exec(html);
      if (!m) throw new Error(`bare "&" at ${i}`);
      text += ENTITY[m[1]!];
      i += m[0].length;
    } else if (c === ">") {
      throw new Error(`raw ">" at ${i}`);
    } else {
      text += c;
      i++;
    }
  }
  if (stack.length) throw new Error(`<${stack.at(-1)}> is never closed`);
  return text;
}

function assertWellFormed(md: string) {
  const html = markdownToTelegramHtml(md);
  let text: string;
  try {
    text = visibleText(html);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n  markdown: ${JSON.stringify(md)}\n  html: ${JSON.stringify(html)}`,
    );
  }
  assert.equal(text, markdownToPlainText(md), `visible text of ${JSON.stringify(html)}`);
}

const markdownish = fc.string({
  unit: fc.constantFrom(
    "*",
    "**",
    "_",
    "__",
    "~~",
    "~",
    "`",
    "```",
    "[",
    "]",
    "(",
    ")",
    "](",
    "http://",
    "https://x.example/",
    "#",
    "# ",
    " ",
    "\n",
    "<",
    ">",
    "&",
    '"',
    "a",
    "b",
    "😀",
    "é",
  ),
  maxLength: 60,
});

describe("telegram markdown → HTML", () => {
  test("the counterexamples fuzzing found are well-formed", () => {
    const misnested = "[~~[a](https://x.example/a_b_)~~a~~";
    const rawInLink = "[**b**](http://x/**y**)";
    assertWellFormed(misnested);
    assertWellFormed(rawInLink);
    assert.equal(markdownToTelegramHtml(rawInLink), '<a href="http://x/**y**"><b>b</b></a>');
    assert.equal(markdownToTelegramHtml(misnested), '[<s><a href="https://x.example/a_b_">a</a></s>a~~');
  });

  test("what it formats, and how it escapes", () => {
    const cases: [string, string][] = [
      ["Use **bold** and `code` <safely>", "Use <b>bold</b> and <code>code</code> &lt;safely&gt;"],
      ["*it* _it_ __b__ ~~s~~", "<i>it</i> <i>it</i> <b>b</b> <s>s</s>"],
      ["snake_case_name and 2*3*4", "snake_case_name and 2*3*4"],
      ["# Title *x*", "<b>Title <i>x</i></b>"],
      ["**a *b** c*", "<b>a *b</b> c*"],
      ['[q](https://e.x/?a=1&b="2")', '<a href="https://e.x/?a=1&amp;b=&quot;2&quot;">q</a>'],
      ["[not a link](javascript:alert(1))", "[not a link](javascript:alert(1))"],
      [
        "```js\nif (a < b) {}\n```\nafter",
        '<pre><code class="language-js">if (a &lt; b) {}</code></pre>\nafter',
      ],
      ["```unclosed **x**", "```unclosed <b>x</b>"],
      ["**not\nacross lines**", "**not\nacross lines**"],
    ];
    for (const [md, html] of cases) {
      assert.equal(markdownToTelegramHtml(md), html, md);
      assertWellFormed(md);
    }
  });

  test("property: any string gives well-formed HTML whose visible text is the plain render", () => {
    fc.assert(fc.property(markdownish, assertWellFormed), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), assertWellFormed), { numRuns: 2000 });
  });

  test("property: text without Markdown characters comes through unchanged", () => {
    const plain = fc.string({
      unit: fc.constantFrom("a", "b", " ", "\n", ".", ",", "😀", "1"),
      maxLength: 60,
    });
    fc.assert(
      fc.property(plain, (s) => {
        assert.equal(markdownToPlainText(s), s);
        assert.equal(markdownToTelegramHtml(s), s);
      }),
    );
  });

  test("deeply nested brackets and long delimiter runs finish (the work is linear by construction)", () => {
    const nested = `${"[".repeat(5000)}a](http://x)${"]".repeat(5000)}`;
    assertWellFormed(nested);
    assertWellFormed(`${"[a](http://".repeat(1000)}`);
    assertWellFormed("*_~~".repeat(2500));
    assertWellFormed(`${"**".repeat(2500)}x${"__".repeat(2500)}`);
    assertWellFormed("```".repeat(3400));
  });
});

describe("telegram button labels", () => {
  test("a label is cut to Telegram's limit between characters, never inside an emoji", () => {
    const label = `${"x".repeat(TELEGRAM_MAX_BUTTON_LABEL - 1)}😀 and more`;
    const button = inlineKeyboard([{ text: label, data: "v" }])[0]![0]!;
    assert.equal(
      button.text,
      "x".repeat(TELEGRAM_MAX_BUTTON_LABEL - 1),
      "the emoji does not fit: left out whole",
    );
    assert.ok(!/[\uD800-\uDBFF]$/.test(button.text));
    const fits = `${"x".repeat(TELEGRAM_MAX_BUTTON_LABEL - 2)}😀 and more`;
    const whole = inlineKeyboard([{ text: fits, data: "v" }])[0]![0]!;
    assert.equal(whole.text, `${"x".repeat(TELEGRAM_MAX_BUTTON_LABEL - 2)}😀`);
  });
});
