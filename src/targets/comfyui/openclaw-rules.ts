// Pure rules of the comfyui-openclaw target, as the extension and its connector define them.
import { PROMPT_INPUT_NAMES } from "./templates.ts";

/**
 * Which input free text after `/run <template>` goes to (the connector's rule): the template's only allowed
 * input; else the first of positive_prompt, prompt, text, positive, caption it allows; else positive_prompt.
 */
export function promptKeyFor(allowed: unknown): string {
  if (Array.isArray(allowed)) {
    if (allowed.length === 1) return String(allowed[0]);
    for (const key of PROMPT_INPUT_NAMES) if (allowed.includes(key)) return key;
  }
  return "positive_prompt";
}

/**
 * A 404 from the extension's routes means one of two things. A route that exists answers an unknown object
 * with JSON ({ok:false, error:"template_not_found"}); without the extension, ComfyUI (aiohttp) answers every
 * /openclaw/* path with the plain text "404: Not Found".
 */
export function describe404(
  body: Record<string, unknown> | undefined,
  ctx: { path: string; server: string; object?: string },
): string {
  const error = body && typeof body.error === "string" ? body.error : undefined;
  if (error)
    return `ComfyUI-OpenClaw has no ${ctx.object ?? ctx.path} (HTTP 404: ${error}).${ctx.object?.startsWith("template") ? " /templates lists the templates." : ""}`;
  return `${ctx.path} is not there (HTTP 404): is the ComfyUI-OpenClaw extension installed on ${ctx.server}?`;
}

/** The answer to /approve: what ran, or why nothing did (the extension's execution_error). */
export function approvedText(id: string, json: Record<string, unknown>): string {
  const promptId = json.prompt_id ?? json.executed_prompt_id;
  if (typeof promptId === "string" && promptId) return `[Approved] ${id}\nExecuted: ${promptId}`;
  const why = json.execution_error ?? json.error;
  return `[Approved] ${id} (Not Executed)${why ? `: ${typeof why === "string" ? why : JSON.stringify(why)}` : ""}`;
}
