// The conversations the backlog benchmark writes to: the session keys of the 64 LINE users that
// bench/ingest/payload.ts lineWebhook() rotates through (source userId `U` + n % 64 in 32 hex digits).
import { sessionKeyOf } from "../../src/core/event.ts";

export const LINE_USERS = 64;

export function lineLanes(): string[] {
  return Array.from({ length: LINE_USERS }, (_, n) =>
    sessionKeyOf({
      channel: "line",
      account: "default",
      conversation: { id: `U${n.toString(16).padStart(32, "0")}`, kind: "dm" },
    }),
  );
}
