// WhatsApp message bodies: text (4,096 chars), images by media id or link, and buttons as interactive reply
// buttons (up to 3, titles of 20 chars) or, for more, an interactive list (up to 10 rows, titles of 24).
import { toWhatsApp } from "../shared/markdown/index.ts";
import type { Button } from "../types.ts";

export const WHATSAPP_TEXT_MAX = 4096;
const INTERACTIVE_BODY_MAX = 1024;

type Body = Record<string, unknown>;

/**
 * The agent's Markdown in WhatsApp's formatting. A rewrite longer than a message holds sends the source
 * instead, so a chunk the gateway cut to fit still fits.
 */
export function whatsappText(md: string): string {
  const out = toWhatsApp(md);
  return out.length > WHATSAPP_TEXT_MAX && md.length <= WHATSAPP_TEXT_MAX ? md : out;
}

export function textBody(to: string, text: string): Body {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "text",
    text: { body: text, preview_url: false },
  };
}

export function imageBody(to: string, image: { id: string } | { link: string }, caption?: string): Body {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "image",
    image: { ...image, ...(caption ? { caption: caption.slice(0, 1024) } : {}) },
  };
}

/** Interactive bodies carry at most 1,024 characters; longer text is sent first as its own message. */
export function fitsInteractive(text: string): boolean {
  return text.length > 0 && text.length <= INTERACTIVE_BODY_MAX;
}

export function buttonsBody(to: string, text: string, buttons: Button[]): Body {
  const interactive =
    buttons.length <= 3
      ? {
          type: "button",
          body: { text },
          action: {
            buttons: buttons.map((b) => ({
              type: "reply",
              reply: { id: b.value.slice(0, 256), title: b.label.slice(0, 20) },
            })),
          },
        }
      : {
          type: "list",
          body: { text },
          action: {
            button: "Choose",
            sections: [
              {
                title: "Options",
                rows: buttons
                  .slice(0, 10)
                  .map((b) => ({ id: b.value.slice(0, 200), title: b.label.slice(0, 24) })),
              },
            ],
          },
        };
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "interactive",
    interactive,
  };
}
