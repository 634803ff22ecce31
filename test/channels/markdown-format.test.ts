// The agent's Markdown on each platform: exact output for a real agent-style answer (heading, bullets, a
// numbered list with nested bullets, bold in a list item, a link, a table, a code block holding <b> and
// *stars*, HTML in the text) and for the corners (setext and deep headings, images, unsafe links, escapes,
// wide characters in tables), plus properties over any input. Telegram's HTML well-formedness property is in
// telegram-format.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { DISCORD_MAX_TEXT, discordText } from "../../src/channels/discord/format.ts";
import {
  toDiscord,
  toPlainText,
  toSlackMrkdwn,
  toTelegramHtml,
  toWhatsApp,
} from "../../src/channels/shared/markdown/index.ts";
import { SECTION_MAX, slackBlocks } from "../../src/channels/slack/format.ts";
import { WHATSAPP_TEXT_MAX, whatsappText } from "../../src/channels/whatsapp/format.ts";

const lines = (...l: string[]) => l.join("\n");

const ANSWER = lines(
  "## Deployment checklist",
  "",
  "Here's what I found:",
  "",
  "- **Config** is valid",
  "- Tests pass on `main`",
  "- See the [runbook](https://example.com/run?a=1&b=2)",
  "",
  "1. Build the image",
  "   - tag it **v2**",
  "   - push it",
  "2. Roll out",
  "",
  "| Service | Replicas |",
  "|---|---:|",
  "| api | 3 |",
  "| worker | 12 |",
  "",
  "```html",
  "<b>not bold</b> and *stars*",
  "```",
  "",
  "> Note: <script>alert(1)</script> is shown as text & nothing runs.",
);

describe("an agent's answer on each platform", () => {
  test("Telegram: HTML with Telegram's tags only, the table and code in <pre>, the agent's HTML escaped", () => {
    assert.equal(
      toTelegramHtml(ANSWER),
      lines(
        "<b>Deployment checklist</b>",
        "",
        "Here's what I found:",
        "",
        "• <b>Config</b> is valid",
        "• Tests pass on <code>main</code>",
        '• See the <a href="https://example.com/run?a=1&amp;b=2">runbook</a>',
        "",
        "1. Build the image",
        "   ◦ tag it <b>v2</b>",
        "   ◦ push it",
        "2. Roll out",
        "",
        "<pre>Service | Replicas",
        "api     |        3",
        "worker  |       12</pre>",
        "",
        '<pre><code class="language-html">&lt;b&gt;not bold&lt;/b&gt; and *stars*</code></pre>',
        "",
        "<blockquote>Note: &lt;script&gt;alert(1)&lt;/script&gt; is shown as text &amp; nothing runs.</blockquote>",
      ),
    );
  });

  test("Slack: mrkdwn with *bold*, <url|label> links, bullets, ``` blocks and &, <, > escaped", () => {
    assert.equal(
      toSlackMrkdwn(ANSWER),
      lines(
        "*Deployment checklist*",
        "",
        "Here's what I found:",
        "",
        "• *Config* is valid",
        "• Tests pass on `main`",
        "• See the <https://example.com/run?a=1&amp;b=2|runbook>",
        "",
        "1. Build the image",
        "   ◦ tag it *v2*",
        "   ◦ push it",
        "2. Roll out",
        "",
        "```",
        "Service | Replicas",
        "api     |        3",
        "worker  |       12",
        "```",
        "",
        "```",
        "&lt;b&gt;not bold&lt;/b&gt; and *stars*",
        "```",
        "",
        "> Note: &lt;script&gt;alert(1)&lt;/script&gt; is shown as text &amp; nothing runs.",
      ),
    );
  });

  test("WhatsApp: *bold*, - lists, links as text (url), ```monospace```", () => {
    assert.equal(
      toWhatsApp(ANSWER),
      lines(
        "*Deployment checklist*",
        "",
        "Here's what I found:",
        "",
        "- *Config* is valid",
        "- Tests pass on `main`",
        "- See the runbook (https://example.com/run?a=1&b=2)",
        "",
        "1. Build the image",
        "   - tag it *v2*",
        "   - push it",
        "2. Roll out",
        "",
        "```Service | Replicas",
        "api     |        3",
        "worker  |       12```",
        "",
        "```<b>not bold</b> and *stars*```",
        "",
        "> Note: <script>alert(1)</script> is shown as text & nothing runs.",
      ),
    );
  });

  test("Discord: Markdown as Discord renders it, the table in a code block", () => {
    assert.equal(
      toDiscord(ANSWER),
      lines(
        "## Deployment checklist",
        "",
        "Here's what I found:",
        "",
        "- **Config** is valid",
        "- Tests pass on `main`",
        "- See the [runbook](https://example.com/run?a=1&b=2)",
        "",
        "1. Build the image",
        "   - tag it **v2**",
        "   - push it",
        "2. Roll out",
        "",
        "```",
        "Service | Replicas",
        "api     |        3",
        "worker  |       12",
        "```",
        "",
        "```html",
        "<b>not bold</b> and *stars*",
        "```",
        "",
        "> Note: <script>alert(1)</script> is shown as text & nothing runs.",
      ),
    );
  });

  test("plain text: no markup characters left, • bullets, links as text (url), the table as a | b rows", () => {
    assert.equal(
      toPlainText(ANSWER),
      lines(
        "Deployment checklist",
        "",
        "Here's what I found:",
        "",
        "• Config is valid",
        "• Tests pass on main",
        "• See the runbook (https://example.com/run?a=1&b=2)",
        "",
        "1. Build the image",
        "   ◦ tag it v2",
        "   ◦ push it",
        "2. Roll out",
        "",
        "Service | Replicas",
        "api | 3",
        "worker | 12",
        "",
        "<b>not bold</b> and *stars*",
        "",
        "│ Note: <script>alert(1)</script> is shown as text & nothing runs.",
      ),
    );
  });
});

type Renderer = (md: string) => string;
const ALL: [string, Renderer][] = [
  ["telegram", toTelegramHtml],
  ["slack", toSlackMrkdwn],
  ["whatsapp", toWhatsApp],
  ["discord", toDiscord],
  ["plain", toPlainText],
];

/** [markdown, telegram, slack, whatsapp, discord, plain] */
const CORNERS: [string, string, string, string, string, string][] = [
  [
    "Title\n=====\n\n#### Deep *one*\n\n__under__ and ***both***",
    "<b>Title</b>\n\n<b>Deep <i>one</i></b>\n\n<b>under</b> and <i><b>both</b></i>",
    "*Title*\n\n*Deep _one_*\n\n*under* and _*both*_",
    "*Title*\n\n*Deep _one_*\n\n*under* and _*both*_",
    // Discord has # to ###, and reads __x__ as underline: bold is written **x**.
    "# Title\n\n**Deep *one***\n\n**under** and ***both***",
    "Title\n\nDeep one\n\nunder and both",
  ],
  [
    "![chart](https://img.example/c.png) and [bad](javascript:alert(1)) and [rel](/docs)",
    '<a href="https://img.example/c.png">chart</a> and bad (javascript:alert(1)) and rel (/docs)',
    "<https://img.example/c.png|chart> and bad (javascript:alert(1)) and rel (/docs)",
    "chart (https://img.example/c.png) and bad (javascript:alert(1)) and rel (/docs)",
    "[chart](https://img.example/c.png) and bad (javascript:alert(1)) and rel (/docs)",
    "chart (https://img.example/c.png) and bad (javascript:alert(1)) and rel (/docs)",
  ],
  [
    "[a|b>c](https://x.example/p?q=a|b&r=>)",
    '<a href="https://x.example/p?q=a|b&amp;r=&gt;">a|b&gt;c</a>',
    "<https://x.example/p?q=a%7Cb&amp;r=%3E|a|b&gt;c>",
    "a|b>c (https://x.example/p?q=a|b&r=>)",
    "[a|b>c](https://x.example/p?q=a|b&r=>)",
    "a|b>c (https://x.example/p?q=a|b&r=>)",
  ],
  [
    "<div>\n<b>hi</b>\n</div>\n\ntext",
    "&lt;div&gt;\n&lt;b&gt;hi&lt;/b&gt;\n&lt;/div&gt;\n\ntext",
    "&lt;div&gt;\n&lt;b&gt;hi&lt;/b&gt;\n&lt;/div&gt;\n\ntext",
    "<div>\n<b>hi</b>\n</div>\n\ntext",
    "<div>\n<b>hi</b>\n</div>\n\ntext",
    "<div>\n<b>hi</b>\n</div>\n\ntext",
  ],
  [
    "- [x] done\n- [ ] todo\n\n***\n\n- loose\n\n- list",
    "• ☑ done\n• ☐ todo\n\n──────────\n\n• loose\n\n• list",
    "• ☑ done\n• ☐ todo\n\n──────────\n\n• loose\n\n• list",
    "- ☑ done\n- ☐ todo\n\n──────────\n\n- loose\n\n- list",
    "- ☑ done\n- ☐ todo\n\n──────────\n\n- loose\n\n- list",
    "• ☑ done\n• ☐ todo\n\n──────────\n\n• loose\n\n• list",
  ],
  [
    // Platforms link bare URLs themselves: autolinks stay text.
    "Visit https://example.com or <https://a.example/x>, mail a@b.example",
    "Visit https://example.com or https://a.example/x, mail a@b.example",
    "Visit https://example.com or https://a.example/x, mail a@b.example",
    "Visit https://example.com or https://a.example/x, mail a@b.example",
    "Visit https://example.com or https://a.example/x, mail a@b.example",
    "Visit https://example.com or https://a.example/x, mail a@b.example",
  ],
  [
    // ``` inside code would close the block on platforms with only ``` fences: a zero-width space parts it.
    '````\nconst s = "```";\n````',
    '<pre><code>const s = "```";</code></pre>',
    '```\nconst s = "`\u200b`\u200b`";\n```',
    '```const s = "`\u200b`\u200b`";```',
    '```\nconst s = "`\u200b`\u200b`";\n```',
    'const s = "```";',
  ],
  [
    // Wide characters take two columns in a monospace font.
    "| 名前 | 数 |\n|---|---|\n| りんご | 3 |\n| kiwi | 12 |",
    "<pre>名前   | 数\n-------|---\nりんご | 3\nkiwi   | 12</pre>",
    "```\n名前   | 数\n-------|---\nりんご | 3\nkiwi   | 12\n```",
    "```名前   | 数\n-------|---\nりんご | 3\nkiwi   | 12```",
    "```\n名前   | 数\n-------|---\nりんご | 3\nkiwi   | 12\n```",
    "名前 | 数\nりんご | 3\nkiwi | 12",
  ],
  [
    "[**bold label**](https://x.example) \\*not italic\\* 2 < 3 & 4",
    '<a href="https://x.example"><b>bold label</b></a> *not italic* 2 &lt; 3 &amp; 4',
    "<https://x.example|bold label> *not italic* 2 &lt; 3 &amp; 4",
    "*bold label* (https://x.example) *not italic* 2 < 3 & 4",
    "[**bold label**](https://x.example) \\*not italic\\* 2 < 3 & 4",
    "bold label (https://x.example) *not italic* 2 < 3 & 4",
  ],
];

describe("the corners, on every platform", () => {
  test("headings, images, unsafe links, HTML, task lists, rules, autolinks, fences in code, wide tables", () => {
    for (const [md, ...expected] of CORNERS) {
      ALL.forEach(([name, render], i) => {
        assert.equal(render(md), expected[i], `${name}: ${JSON.stringify(md)}`);
      });
    }
  });

  test("a table never comes out longer than the Markdown it came from (the gateway cut to that length)", () => {
    const long = lines(
      "| a | b |",
      "|---|---|",
      "| a very long first cell that sets the width | x |",
      "| y | z |",
      "| y | z |",
    );
    // At most the block's own marks are added (<pre></pre>, or ``` and two line breaks).
    for (const [name, render] of ALL) {
      const out = render(long);
      assert.ok(out.length <= long.length + 11, `${name}: ${out.length} > ${long.length}`);
    }
    assert.equal(
      toPlainText(long),
      lines("a | b", "a very long first cell that sets the width | x", "y | z", "y | z"),
    );
  });

  test("an answer too long to parse in reasonable time goes as text, unparsed", () => {
    const huge = "**x** ".repeat(6000).trim();
    assert.equal(toPlainText(huge), huge);
    assert.equal(toPlainText(huge.slice(0, 600)), "x ".repeat(100).trim());
  });

  test("nothing to show renders the source rather than an empty message", () => {
    for (const [name, render] of ALL) {
      assert.equal(render("```"), "```", name);
      assert.equal(render("[ref]: https://x.example"), "[ref]: https://x.example", name);
    }
  });
});

describe("limits", () => {
  test("a rewrite that would pass the platform's limit sends the source, which fit", () => {
    // Rules widen from 3 characters to 10.
    const rules = (n: number) => `${"x".repeat(n)}${"\n\n---".repeat(100)}`;
    const dc = rules(DISCORD_MAX_TEXT - 500);
    assert.ok(toDiscord(dc).length > DISCORD_MAX_TEXT);
    assert.equal(discordText(dc), dc);
    assert.equal(discordText("**a**\n\n---"), "**a**\n\n──────────");
    const wa = rules(WHATSAPP_TEXT_MAX - 500);
    assert.ok(toWhatsApp(wa).length > WHATSAPP_TEXT_MAX);
    assert.equal(whatsappText(wa), wa);
    assert.equal(whatsappText("**a**"), "*a*");
  });

  test("Slack sections are cut after a line where one is near, so a line's link stays whole", () => {
    const line = `see <https://x.example/${"p".repeat(60)}|the page>\n`;
    const text = line.repeat(Math.ceil((SECTION_MAX * 1.5) / line.length));
    const sections = slackBlocks(text, [{ label: "OK", value: "ok" }])
      .filter((b) => b.type === "section")
      .map((b) => (b.text as { text: string }).text);
    assert.equal(sections.join(""), text);
    for (const s of sections) assert.ok(s.endsWith("\n") || s === sections.at(-1), "cut after a line");
    assert.ok(sections.every((s) => s.length <= SECTION_MAX));
  });
});

describe("properties of every renderer", () => {
  const markdownish = fc.string({
    unit: fc.constantFrom(
      ...'*_~`[]()!#>|-:\n <&"1. a'.split(""),
      "**",
      "```",
      "](https://x.example/",
      "\n\n",
      "| a | b |\n|---|---|\n",
      "- ",
      "😀",
    ),
    maxLength: 80,
  });

  test("any input renders without throwing, and non-blank input never renders to nothing", () => {
    fc.assert(
      fc.property(fc.oneof(markdownish, fc.string({ unit: "binary", maxLength: 80 })), (md) => {
        for (const [name, render] of ALL) {
          const out = render(md);
          if (md.trim()) assert.notEqual(out.trim(), "", `${name}: ${JSON.stringify(md)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("Slack: &, < and > only ever appear as entities, quote marks, or around a link Slack should read", () => {
    fc.assert(
      fc.property(markdownish, (md) => {
        const out = toSlackMrkdwn(md)
          .replace(/^([ •◦☐☑]|\d+\. )*>( |$)/gm, "")
          .replace(/<https?:\/\/[^<>|\s]+(\|[^<>]*)?>/g, "");
        assert.ok(!/[<>]/.test(out), `raw < or > in ${JSON.stringify(toSlackMrkdwn(md))}`);
        assert.ok(!/&(?!(amp|lt|gt);)/.test(out), `bare & in ${JSON.stringify(toSlackMrkdwn(md))}`);
      }),
      { numRuns: 2000 },
    );
  });
});
