// pino: JSON when stdout is not a terminal, readable when it is. Secrets are redacted by key wherever they
// appear in a logged object, so a config or a request header can be logged without leaking tokens.
import pino, { type Logger } from "pino";

export const REDACT_PATHS = [
  "*.token",
  "*.botToken",
  "*.apiKey",
  "*.secret",
  "*.password",
  "*.accessToken",
  "*.appSecret",
  "*.signingSecret",
  "*.channelSecret",
  "*.channelAccessToken",
  "*.authToken",
  "*.adminToken",
  "*.callbackSecret",
  "*.encodingAesKey",
  "*.authorization",
  "*.Authorization",
  "*.cookie",
  "headers.authorization",
  'headers["x-openclaw-admin-token"]',
  'headers["x-openclaw-device-token"]',
  "*.*.token",
  "*.*.botToken",
  "*.*.apiKey",
  "*.*.secret",
  // The security boundary's secrets (bridge static token, pairing and callback tokens), and a config logged whole.
  "*.deviceToken",
  "*.*.deviceToken",
  "*.bootstrapToken",
  "*.pollToken",
  "*.*.adminToken",
  "*.*.callbackSecret",
  'headers["x-ocg-signature"]',
  "*.*.*.token",
  "*.*.*.botToken",
  "*.*.*.secret",
  "*.*.*.apiKey",
];

export function createLogger(
  level: string,
  opts: { pretty?: boolean; destination?: pino.DestinationStream } = {},
) {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.destination);
  const base: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } },
    });
  }
  return opts.destination ? pino(base, opts.destination) : pino(base);
}

export type { Logger };
