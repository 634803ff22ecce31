// The agent writes Markdown; each platform gets it in its own format, from one parse (marked's tokens).
export { toDiscord } from "./discord.ts";
export { toPlainText } from "./plain.ts";
export { escapeSlack, toSlackMrkdwn } from "./slack.ts";
export { escapeHtml, telegramVisibleText, toTelegramHtml } from "./telegram.ts";
export { toWhatsApp } from "./whatsapp.ts";
