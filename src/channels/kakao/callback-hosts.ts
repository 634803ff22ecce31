// Kakao skill requests are unsigned, so the callback URL inside one is attacker-controlled unless its host is
// one we trust: a callback URL is followed only when it matches the allowlist. Entries are a host
// ("bot-api.kakao.com"), a wildcard suffix ("*.kakao.com"), or a full origin ("http://127.0.0.1:9000") to allow
// another scheme or port. Without a scheme only https on the default port matches. A full origin is also the
// operator's explicit permission for that host to be private (the URL guard lets it through); a host or a
// wildcard is still refused when it resolves to a private address.

/** Kakao's own callback hosts: callback URLs are issued under bot-api.kakao.com. */
export const KAKAO_CALLBACK_HOSTS = ["bot-api.kakao.com", "*.kakao.com"];

export interface HostRule {
  protocol: string;
  host: string;
  wildcard: boolean;
  port: string;
  /** Written as a full origin: an explicit address, exempt from the private-address check. */
  explicit: boolean;
}

/** Why an entry cannot be a rule, or undefined when it can (the config schema reports it with its key). */
export function hostRuleProblem(entry: string): string | undefined {
  const e = entry.trim().toLowerCase();
  if (e.includes("://")) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      return `"${entry}" is not a valid origin (like https://bot-api.kakao.com or http://127.0.0.1:9000)`;
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") return `"${entry}": only http and https origins`;
    if (u.username || u.password || u.pathname !== "/" || u.search || u.hash) {
      return `"${entry}" must be an origin only (scheme, host and port; no path, query or credentials)`;
    }
    return undefined;
  }
  const host = e.startsWith("*.") ? e.slice(2) : e;
  let parsed: string | undefined;
  try {
    parsed = new URL(`https://${host}`).hostname;
  } catch {
    parsed = undefined;
  }
  if (!host || parsed !== host) {
    return `"${entry}" is not a host name (like bot-api.kakao.com or *.kakao.com; write http://host:port for another scheme or port)`;
  }
  return undefined;
}

export function parseHostRules(entries: string[]): HostRule[] {
  return entries.map((entry) => {
    const problem = hostRuleProblem(entry);
    if (problem) throw new TypeError(`callbackHosts: ${problem}`);
    const e = entry.trim().toLowerCase();
    if (e.includes("://")) {
      const u = new URL(e);
      return { protocol: u.protocol, host: u.hostname, wildcard: false, port: u.port, explicit: true };
    }
    const wildcard = e.startsWith("*.");
    return { protocol: "https:", host: wildcard ? e.slice(1) : e, wildcard, port: "", explicit: false };
  });
}

export function callbackAllowed(rules: HostRule[], raw: string | URL): boolean {
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

/** Hosts the operator wrote as full origins: the URL guard lets these reach private addresses. */
export function explicitHosts(rules: HostRule[]): string[] {
  return rules.filter((r) => r.explicit).map((r) => r.host.replace(/^\[|\]$/g, ""));
}
