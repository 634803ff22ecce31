// Tables: no chat platform draws one. In a monospace block, columns padded to line up read best; where the
// font is proportional (plain text), padding cannot align anything, so each row is its cells joined by " | ".
// The padded form is used only when it is no longer than the Markdown table was, so a formatted message never
// outgrows the length the gateway cut it to (unpadded agent tables with long cells fall back to " | " rows).

/** Rows (the header first) as "a | b" lines. */
export function tableRows(rows: string[][]): string {
  return rows.map((row) => row.map(cell).join(" | ")).join("\n");
}

export type Align = "left" | "right" | "center" | null;

/**
 * Rows lined up in columns (right-aligned where the table says so) with a rule under the header; without the
 * rule, or as tableRows, when that would be longer than the source.
 */
export function tableText(rows: string[][], sourceLength: number, align: Align[] = []): string {
  const cells = rows.map((row) => row.map(cell));
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(c));
    });
  }
  const line = (row: string[]) =>
    row
      .map((c, i) => {
        const pad = " ".repeat(widths[i]! - displayWidth(c));
        return align[i] === "right" ? pad + c : c + pad;
      })
      .join(" | ")
      .trimEnd();
  const lines = cells.map(line);
  const ruled = [lines[0]!, widths.map((w) => "-".repeat(w)).join("-|-"), ...lines.slice(1)].join("\n");
  if (ruled.length <= sourceLength) return ruled;
  const aligned = lines.join("\n");
  return aligned.length <= sourceLength ? aligned : tableRows(rows);
}

/** A cell on one line: a line break inside a cell would break the row apart. */
function cell(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** Columns a monospace font gives the text: East Asian wide characters and emoji take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)) continue;
    w += isWide(c) ? 2 : 1;
  }
  return w;
}

function isWide(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}
