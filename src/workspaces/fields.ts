// A workspace's settings as the API takes them (POST creates, PATCH changes what it names). Pure.
import type { WorkspaceFields } from "../store/workspace-rows.ts";

const MAX_PROMPT = 20_000;

/** `current` given: a partial update (absent keys keep their value; null clears). */
export function readWorkspaceFields(
  json: Record<string, unknown>,
  current?: WorkspaceFields,
): WorkspaceFields | { error: string } {
  const out: WorkspaceFields = current
    ? { ...current }
    : { name: "", systemPrompt: null, agentUrl: null, model: null };
  if ("name" in json || !current) {
    const name = typeof json.name === "string" ? json.name.trim() : "";
    if (!name || name.length > 100) return { error: "name must be 1-100 characters" };
    out.name = name;
  }
  const text = (key: "systemPrompt" | "model", max: number): string | null | { error: string } => {
    const v = json[key];
    if (v === null || v === "") return null;
    if (typeof v !== "string" || v.length > max)
      return { error: `${key} must be a string of at most ${max} characters, or null` };
    return v;
  };
  for (const [key, max] of [
    ["systemPrompt", MAX_PROMPT],
    ["model", 200],
  ] as const) {
    if (!(key in json)) continue;
    const v = text(key, max);
    if (v !== null && typeof v === "object") return v;
    out[key] = v;
  }
  if ("agentUrl" in json) {
    const v = json.agentUrl;
    if (v === null || v === "") out.agentUrl = null;
    else {
      let url: URL | undefined;
      try {
        url = typeof v === "string" && v.length <= 2000 ? new URL(v) : undefined;
      } catch {}
      if (!url || !/^https?:$/.test(url.protocol))
        return {
          error: "agentUrl must be an http(s) URL of an OpenAI-compatible chat completions endpoint, or null",
        };
      out.agentUrl = url.href;
    }
  }
  return out;
}
