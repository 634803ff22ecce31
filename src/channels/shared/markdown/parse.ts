// The agent's Markdown → marked's tokens (CommonMark + GFM tables, strikethrough, autolinks, task lists).
// marked's inline pass is quadratic on some delimiter soups ("**a _" repeated) and recurses once per nesting
// level ("> > > …" on one line overflows the stack), so it is guarded: inline runs past a size budget stay
// plain text, and input too long to parse, or that marked cannot lex at all, becomes one plain paragraph.
// Formatting is a courtesy; the text itself must always arrive.
import { Lexer, type Token, type Tokens } from "marked";

/** One inline run longer than this is shown as text (≈0.3 s worst case on a slow core at this size). */
const MAX_INLINE_RUN = 5000;
/** Inline parsing stops after this many characters in all; the rest of a huge message stays text. */
const MAX_INLINE_TOTAL = 20_000;
/**
 * Longer input is not parsed at all (block parsing of deep nesting grows faster than linearly too). Every
 * platform but Kakao and the web chat cuts far below this before formatting; Kakao's bubble shows 1,000.
 */
const MAX_PARSED = 32_000;

export type { Token, Tokens };

export function parseMarkdown(md: string): Token[] {
  const src = md.replace(/\r\n?/g, "\n");
  if (src.length > MAX_PARSED) return [plainParagraph(src)];
  try {
    const lexer = new Lexer({ gfm: true });
    // What Lexer.lex does, with the inline pass budgeted.
    const tokens = lexer.blockTokens(src, lexer.tokens);
    let budget = MAX_INLINE_TOTAL;
    for (const run of lexer.inlineQueue) {
      if (run.src.length > MAX_INLINE_RUN || run.src.length > budget) {
        run.tokens.push(textToken(run.src));
        continue;
      }
      budget -= run.src.length;
      lexer.state.inRawBlock = false;
      lexer.inlineTokens(run.src, run.tokens);
    }
    lexer.inlineQueue = [];
    return tokens;
  } catch {
    // A stack overflow, or marked's own "infinite loop" guard: the answer still goes out, as text.
    return [plainParagraph(src)];
  }
}

function plainParagraph(src: string): Tokens.Paragraph {
  return { type: "paragraph", raw: src, text: src, tokens: [textToken(src)] };
}

function textToken(s: string): Tokens.Text {
  return { type: "text", raw: s, text: s, escaped: false };
}
