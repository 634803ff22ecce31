// WhatsApp message bodies: text (4,096 chars), images and documents by media id or link, and buttons as interactive reply
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

/**
 * What WhatsApp takes as a document (up to 100 MB): PDF, plain text and the Office formats. Other text (CSV,
 * Markdown, JSON) goes as text/plain under its own file name; anything else (a ZIP) has no document type.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/document-messages
 */
export const WHATSAPP_DOCUMENT_MAX = 100 * 1024 * 1024;
const DOCUMENT_TYPES = new Set([
  "application/pdf",
  "text/plain",
  "application/msword",
  "application/vnd.ms-excel",
  "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
]);

/** The type a file is uploaded as, or undefined when WhatsApp has no document message for it. */
export function documentUploadType(mime: string): string | undefined {
  if (DOCUMENT_TYPES.has(mime)) return mime;
  return mime.startsWith("text/") || mime === "application/json" ? "text/plain" : undefined;
}

export function documentBody(
  to: string,
  document: { id: string } | { link: string },
  filename: string,
  caption?: string,
): Body {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "document",
    document: { ...document, filename, ...(caption ? { caption: caption.slice(0, 1024) } : {}) },
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
