// Writes schema/clawgate.schema.json for editors: point "$schema" in clawgate.json at it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { configSchema } from "./schema.ts";

export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
}

if (import.meta.main) {
  const out = resolve(dirname(fileURLToPath(import.meta.url)), "../../schema/clawgate.schema.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${out}`);
}
