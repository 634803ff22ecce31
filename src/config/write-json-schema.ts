// Writes schema/clawgate.schema.json for editors: point "$schema" in clawgate.json at it. The schema is the one
// start reads files with (the channel modules' sections included), so an editor completes channel keys.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { toEditorJsonSchema } from "./channels-schema.ts";

/** `schema`: the one the channel modules assembled (src/channels/registry.ts appConfigSchema). */
export function configJsonSchema(schema: z.ZodType): unknown {
  return toEditorJsonSchema(schema);
}

if (import.meta.main) {
  const out = resolve(dirname(fileURLToPath(import.meta.url)), "../../schema/clawgate.schema.json");
  mkdirSync(dirname(out), { recursive: true });
  // Loaded here only: config/ itself never imports a channel.
  const { appConfigSchema } = await import("../channels/registry.ts");
  writeFileSync(out, `${JSON.stringify(configJsonSchema(appConfigSchema()), null, 2)}\n`);
  console.log(`wrote ${out}`);
}
