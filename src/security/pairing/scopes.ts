// Device scopes (the bridge contract of ComfyUI-OpenClaw): each bridge route names the one it needs.
export const SCOPES = ["job:submit", "job:status", "delivery:send", "config:read"] as const;
export type Scope = (typeof SCOPES)[number];

/** Granted when an approval names no scopes: everything but reading the configuration. */
export const DEFAULT_SCOPES: Scope[] = ["job:submit", "job:status", "delivery:send"];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** Parses "a,b c" into scopes; unknown names are reported, never silently granted. */
export function parseScopes(raw: string | string[] | undefined): { scopes: Scope[]; unknown: string[] } {
  const parts = (Array.isArray(raw) ? raw : (raw ?? "").split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean);
  const scopes: Scope[] = [];
  const unknown: string[] = [];
  for (const p of parts) {
    if (isScope(p)) {
      if (!scopes.includes(p)) scopes.push(p);
    } else unknown.push(p);
  }
  return { scopes, unknown };
}
