// Building blocks for a channel's `doctor()` (built in or a plugin): findings with their fix, the public URL a
// platform calls, and a platform call's failure told in words an operator can act on.
import type { Config } from "../../config/schema.ts";
import { PlatformClientError, PlatformError } from "../shared/platform-fetch.ts";
import { type DoctorCheck, RateLimitedError } from "../types.ts";

export type { DoctorCheck, DoctorContext } from "../types.ts";

export const ok = (id: string, title: string, detail: string): DoctorCheck => ({
  id,
  title,
  status: "ok",
  detail,
});
export const warn = (id: string, title: string, detail: string, fix: string): DoctorCheck => ({
  id,
  title,
  status: "warn",
  detail,
  fix,
});
export const failed = (id: string, title: string, detail: string, fix: string): DoctorCheck => ({
  id,
  title,
  status: "fail",
  detail,
  fix,
});

/** `channels.line` or `channels.telegram.accounts.ops`: where an account's settings live. */
export function settingsKey(channel: string, account: string): string {
  return account === "default" ? `channels.${channel}` : `channels.${channel}.accounts.${account}`;
}

/** The URL a platform must call for `path`: server.publicBaseUrl joined with the path, when one is set. */
export function publicUrlFor(config: Config, path: string): string | undefined {
  const base = config.server.publicBaseUrl?.replace(/\/+$/, "");
  return base ? `${base}${path}` : undefined;
}

/**
 * Whether the platform can reach the webhook at `path`: a public URL is set, and is https where the platform
 * calls nothing else (LINE, WhatsApp, Slack, Telegram webhooks). `explicit` is an account's own full URL.
 */
export function publicUrlCheck(o: {
  id: string;
  platform: string;
  config: Config;
  path: string;
  httpsRequired: boolean;
  explicit?: string;
  /** The setting to name when a per-account URL can replace server.publicBaseUrl (Twilio's publicUrl). */
  explicitKey?: string;
}): DoctorCheck {
  const title = `${o.platform} webhook URL`;
  const url = o.explicit ?? publicUrlFor(o.config, o.path);
  const where = o.explicitKey ? `server.publicBaseUrl (or ${o.explicitKey})` : "server.publicBaseUrl";
  if (!url) {
    return failed(
      o.id,
      title,
      `no public URL is set, so ${o.platform} cannot reach ${o.path}`,
      `set ${where} in clawgate.json to the https address that reaches this gateway (e.g. https://bot.example.com), so ${o.platform} can call https://bot.example.com${o.path}`,
    );
  }
  if (o.httpsRequired && !url.startsWith("https://")) {
    return failed(
      o.id,
      title,
      `${url} is not https; ${o.platform} only calls https webhook URLs`,
      `put a TLS-terminating proxy (Caddy, nginx, a tunnel) in front of the gateway and set ${where} to its https:// address`,
    );
  }
  return ok(o.id, title, url);
}

/** A platform call's failure as a sentence: the status and the platform's own words, or the network reason. */
export function describeFailure(err: unknown): string {
  if (err instanceof PlatformClientError || err instanceof PlatformError) return err.message;
  if (err instanceof RateLimitedError) return `${err.message}; try doctor again shortly`;
  const e = err as Error & { cause?: Error & { cause?: { code?: string } } };
  const code = e?.cause?.cause?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  if (code === "ECONNREFUSED") return `${e.message.replace(/ \(.*\)$/, "")} (connection refused)`;
  return e?.message ?? String(err);
}

/** Whether a call failed before reaching the platform (network, DNS, 5xx): a credential cannot be judged then. */
export function unreachable(err: unknown): boolean {
  return !(err instanceof PlatformClientError) && !(err instanceof RateLimitedError);
}
