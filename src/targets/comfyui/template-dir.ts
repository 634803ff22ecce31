// Reads the templates directory: manifest.json when present (only the templates it lists), otherwise every
// *.json workflow with its placeholders as inputs. Read on each use so edits apply without a restart.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, resolve, sep } from "node:path";
import { makeTemplate, parseManifest, type Template, TemplateError } from "./templates.ts";

export interface TemplateSet {
  templates: Map<string, Template>;
  /** Problems with individual templates; the others still work. */
  problems: string[];
}

export async function loadTemplates(dir: string): Promise<TemplateSet> {
  const root = resolve(dir);
  const templates = new Map<string, Template>();
  const problems: string[] = [];
  if (!existsSync(root)) {
    return {
      templates,
      problems: [
        `templates directory ${root} does not exist (set CLAWGATE_TEMPLATES_DIR or copy examples/templates there)`,
      ],
    };
  }
  const manifestPath = resolve(root, "manifest.json");
  if (existsSync(manifestPath)) {
    const manifest = parseManifest(await readJson(manifestPath));
    for (const [id, entry] of manifest) {
      const file = resolve(root, entry.path);
      if (!file.startsWith(root + sep)) {
        problems.push(`template ${id}: path ${entry.path} leaves the templates directory`);
        continue;
      }
      try {
        templates.set(id, makeTemplate(id, entry.path, await readJson(file), entry));
      } catch (err) {
        problems.push(`template ${id}: ${(err as Error).message}`);
      }
    }
    return { templates, problems };
  }
  for (const name of (await readdir(root)).sort()) {
    if (!name.endsWith(".json")) continue;
    const id = basename(name, ".json");
    try {
      templates.set(id, makeTemplate(id, name, await readJson(resolve(root, name))));
    } catch (err) {
      problems.push(`template ${id}: ${(err as Error).message}`);
    }
  }
  return { templates, problems };
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8").catch((err: Error) => {
    throw new TemplateError(`cannot read ${path}: ${err.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TemplateError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
