// Outgoing messages: Discord renders Markdown itself, so text goes as Markdown with what Discord lacks rewritten
// (2000 characters per message); buttons become message components, up to five to a row.
import { cutText } from "../../core/text-cut.ts";
import { toDiscord } from "../shared/markdown/index.ts";
import type { Button, MediaItem } from "../types.ts";

export const DISCORD_MAX_TEXT = 2000;
export const DISCORD_MAX_CUSTOM_ID = 100;
/** Button labels: at most 80 characters. */
export const DISCORD_MAX_LABEL = 80;

/**
 * The agent's Markdown as Discord Markdown. A rewrite longer than the limit (a table's code fence added to a
 * full chunk) sends the source instead: Discord renders that too, and the end of the text is not cut off.
 */
export function discordText(md: string): string {
  const out = toDiscord(md);
  return out.length > DISCORD_MAX_TEXT && md.length <= DISCORD_MAX_TEXT ? md : out;
}

/** Button styles: 1 primary (blurple), 2 secondary (grey), 4 danger (red). */
export function componentRows(buttons: { label: string; customId: string; style?: Button["style"] }[]) {
  const rows: { type: 1; components: unknown[] }[] = [];
  for (let i = 0; i < buttons.length && rows.length < 5; i += 5) {
    rows.push({
      type: 1,
      components: buttons.slice(i, i + 5).map((b) => ({
        type: 2,
        style: b.style === "danger" ? 4 : b.style === "primary" ? 1 : 2,
        label: cutText(b.label, DISCORD_MAX_LABEL, "…"),
        custom_id: b.customId,
      })),
    });
  }
  return rows;
}

export function filesOf(media: MediaItem[]) {
  return media.slice(0, 10).map((m) => ({
    name: m.filename,
    data: Buffer.from(m.dataBase64, "base64"),
    contentType: m.mime,
  }));
}
