// Kakao skill requests are unsigned, so the callback URL inside one is attacker-controlled unless its host is
// one we trust: a callback URL is followed only when it matches the allowlist. Entries are a host
// ("bot-api.kakao.com"), a wildcard suffix ("*.kakao.com"), or a full origin ("http://127.0.0.1:9000") to allow
// another scheme or port. Without a scheme only https on the default port matches.

/** Kakao's own callback hosts: callback URLs are issued under bot-api.kakao.com. */
export const KAKAO_CALLBACK_HOSTS = ["bot-api.kakao.com", "*.kakao.com"];

interface HostRule {
  protocol: string;
  host: string;
  wildcard: boolean;
  port: string;
}

export function parseHostRules(entries: string[]): HostRule[] {
  return entries.map((entry) => {
    const e = entry.trim().toLowerCase();
    if (e.includes("://")) {
      const u = new URL(e);
      return { protocol: u.protocol, host: u.hostname, wildcard: false, port: u.port };
    }
    const wildcard = e.startsWith("*.");
    return { protocol: "https:", host: wildcard ? e.slice(1) : e, wildcard, port: "" };
  });
}

export function callbackAllowed(rules: HostRule[], raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  return rules.some(
    (r) =>
      r.protocol === url.protocol &&
      r.port === url.port &&
      (r.wildcard ? host.endsWith(r.host) && host.length > r.host.length : host === r.host),
  );
}
