// `node --import ./test/helpers/module-log.ts …`: writes every module the process loads to stderr, one
// `module-loaded <url>` line each, so a test can tell what a command imported.
import { writeSync } from "node:fs";
import { registerHooks } from "node:module";

const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (!seen.has(resolved.url)) {
      seen.add(resolved.url);
      writeSync(2, `module-loaded ${resolved.url}\n`);
    }
    return resolved;
  },
});
