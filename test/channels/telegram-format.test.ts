// Markdown → Telegram HTML is well-formed by construction: only Telegram's tags, nested as Telegram allows,
// attributes quoted and escaped, everything else escaped, and never more visible text than Telegram takes.
// Property tests over arbitrary and Markdown-heavy strings, plus the counterexamples fuzzing found.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { toPlainText, toTelegramHtml } from "../../src/channels/shared/markdown/index.ts";
import {
  inlineKeyboard,
  markdownToTelegramHtml,
  TELEGRAM_MAX_BUTTON_LABEL,
  TELEGRAM_MAX_CAPTION,
  TELEGRAM_MAX_TEXT,
  visibleLength,
} from "../../src/channels/telegram/format.ts";

const TAGS = new Set(["b", "i", "s", "u", "code", "pre", "a", "blockquote", "tg-spoiler"]);
const ENTITY: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/**
 * Reads `html` as Telegram's HTML parse mode would, strictly: allowed tags only, closed in order, `a` with a
 * quoted href and `code` with an optional language class as the only attributes, no raw `<`, `>` or bare `&`,
 * and Telegram's nesting rules: nothing inside code or pre (but pre>code), no code in a link, no link in a link,
 * no blockquote in a blockquote. Returns the visible text, or throws saying what is wrong.
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
        const parent = stack.at(-1);
        if (parent === "code" || (parent === "pre" && name !== "code"))
          throw new Error(`<${name}> inside <${parent}>`);
        if ((name === "code" || name === "a") && stack.includes("a")) throw new Error(`<${name}> inside <a>`);
        if (name === "blockquote" && stack.includes("blockquote")) throw new Error("nested <blockquote>");
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
  for (const html of [toTelegramHtml(md), markdownToTelegramHtml(md)]) {
    let text: string;
    try {
      text = visibleText(html);
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\n  markdown: ${JSON.stringify(md)}\n  html: ${JSON.stringify(html)}`,
      );
    }
    // The length the adapter checks against Telegram's limit is the length Telegram counts.
    assert.equal(visibleLength(html), text.length, `visible length of ${JSON.stringify(html)}`);
    assert.ok(md.trim() === "" || text.trim() !== "", `nothing visible of ${JSON.stringify(md)}`);
  }
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
    assert.equal(markdownToTelegramHtml(misnested), '[~~<a href="https://x.example/a_b_">a</a><s>a</s>');
  });

  test("what it formats, and how it escapes", () => {
    const cases: [string, string][] = [
      ["Use **bold** and `code` <safely>", "Use <b>bold</b> and <code>code</code> &lt;safely&gt;"],
      ["*it* _it_ __b__ ~~s~~", "<i>it</i> <i>it</i> <b>b</b> <s>s</s>"],
      // CommonMark: "_" never emphasises inside a word, "*" does.
      ["snake_case_name and 2*3*4", "snake_case_name and 2<i>3</i>4"],
      ["# Title *x*", "<b>Title <i>x</i></b>"],
      ['[q](https://e.x/?a=1&b="2")', '<a href="https://e.x/?a=1&amp;b=&quot;2&quot;">q</a>'],
      ["[not a link](javascript:alert(1))", "not a link (javascript:alert(1))"],
      ["[code in a link `x`](https://e.x)", '<a href="https://e.x">code in a link x</a>'],
      [
        "```js\nif (a < b) {}\n```\nafter",
        '<pre><code class="language-js">if (a &lt; b) {}</code></pre>\nafter',
      ],
      ['```js" onclick="x\ncode\n```', "<pre><code>code</code></pre>"],
      // An unclosed fence is a code block to the end; this one holds nothing, so the source is shown.
      ["```unclosed **x**", "```unclosed **x**"],
      ["```py\nstreamed so far", '<pre><code class="language-py">streamed so far</code></pre>'],
      // CommonMark: emphasis spans a soft line break.
      ["**across\nlines**", "<b>across\nlines</b>"],
      ["> outer\n> > inner", "<blockquote>outer\ninner</blockquote>"],
      ["<b>not a tag</b> &amp;", "&lt;b&gt;not a tag&lt;/b&gt; &amp;amp;"],
    ];
    for (const [md, html] of cases) {
      assert.equal(markdownToTelegramHtml(md), html, md);
      assertWellFormed(md);
    }
  });

  test("property: any string gives well-formed HTML Telegram accepts", () => {
    fc.assert(fc.property(markdownish, assertWellFormed), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), assertWellFormed), { numRuns: 2000 });
  });

  test("property: prose without Markdown characters comes through unchanged", () => {
    const word = fc.string({
      unit: fc.constantFrom("a", "b", "é", "😀", ",", "1"),
      minLength: 1,
      maxLength: 8,
    });
    const line = fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => w.join(" "));
    const prose = fc
      .array(fc.tuple(line, fc.constantFrom("\n", "\n\n")), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.map(([l, sep], i) => (i ? sep : "") + l).join(""));
    fc.assert(
      fc.property(prose, (s) => {
        assert.equal(toPlainText(s), s);
        assert.equal(markdownToTelegramHtml(s), s);
      }),
    );
  });

  test("pathological input finishes and stays well-formed (inline parsing is budgeted, deep nesting falls back)", () => {
    const nested = `${"[".repeat(5000)}a](http://x)${"]".repeat(5000)}`;
    assertWellFormed(nested);
    assertWellFormed(`${"[a](http://".repeat(1000)}`);
    assertWellFormed("*_~~".repeat(2500));
    assertWellFormed(`${"**".repeat(2500)}x${"__".repeat(2500)}`);
    assertWellFormed("```".repeat(3400));
    assertWellFormed("**a _".repeat(800));
    // marked recurses once per level: these overflow its stack and arrive as text.
    assert.equal(markdownToTelegramHtml(`${"> ".repeat(5000)}x`), `${"&gt; ".repeat(5000)}x`);
    assertWellFormed("1. ".repeat(3000));
  });

  test("formatting that would pass Telegram's limit sends the Markdown unformatted", () => {
    // Rules widen (3 → 10 characters): a chunk cut to 4096 Markdown characters must still fit.
    const md = `${"x".repeat(TELEGRAM_MAX_TEXT - 500)}${"\n\n---".repeat(100)}`;
    assert.ok(md.length <= TELEGRAM_MAX_TEXT);
    assert.ok(visibleLength(toTelegramHtml(md)) > TELEGRAM_MAX_TEXT);
    assert.equal(markdownToTelegramHtml(md), md);
    // A caption (at most 1024) is held to its own limit the same way.
    const caption = `${"x".repeat(TELEGRAM_MAX_CAPTION - 300)}${"\n\n---".repeat(50)}`;
    assert.ok(caption.length <= TELEGRAM_MAX_CAPTION);
    assert.equal(markdownToTelegramHtml(caption), caption);
    const fits = `**${"x".repeat(TELEGRAM_MAX_TEXT - 4)}**`;
    assert.equal(markdownToTelegramHtml(fits), `<b>${"x".repeat(TELEGRAM_MAX_TEXT - 4)}</b>`);
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
