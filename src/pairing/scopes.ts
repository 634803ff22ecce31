// Device scopes (the bridge contract of ComfyUI-OpenClaw): each bridge route names the one it needs. `chat` lets
// the device use the web chat API with its own threads (src/channels/webchat/access.ts).
export const SCOPES = ["job:submit", "job:status", "delivery:send", "config:read", "chat"] as const;
export type Scope = (typeof SCOPES)[number];

/** Granted when an approval names no scopes and the device asked for none: the bridge's job routes. */
export const DEFAULT_SCOPES: Scope[] = ["job:submit", "job:status", "delivery:send"];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** How a value that is not a scope name is shown back to the caller (short, never the whole input). */
function shown(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * Parses "a,b c" or a list of names into scopes; unknown names are reported, never silently granted. Takes
 * any value (it comes straight from request bodies): anything but a string or a list of strings is reported
 * in `invalid` (and its parts in `unknown`, so a caller that only checks `unknown` still refuses it).
 */
export function parseScopes(raw: unknown): { scopes: Scope[]; unknown: string[]; invalid?: string } {
  if (raw === undefined || raw === null) return { scopes: [], unknown: [] };
  if (typeof raw !== "string" && !Array.isArray(raw))
    return {
      scopes: [],
      unknown: [shown(raw)],
      invalid: `scopes must be a list of scope names (or one comma-separated string), not ${shown(raw)}`,
    };
  const parts = typeof raw === "string" ? raw.split(/[\s,]+/) : (raw as unknown[]);
  const scopes: Scope[] = [];
  const unknown: string[] = [];
  const bad: string[] = [];
  for (const part of parts) {
    if (typeof part !== "string") {
      bad.push(shown(part));
      continue;
    }
    const p = part.trim();
    if (!p) continue;
    if (isScope(p)) {
      if (!scopes.includes(p)) scopes.push(p);
    } else unknown.push(p);
  }
  if (bad.length === 0) return { scopes, unknown };
  return {
    scopes,
    unknown: [...unknown, ...bad],
    invalid: `scopes must be a list of scope names (strings); got ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", …" : ""}`,
  };
}
