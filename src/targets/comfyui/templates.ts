// Templates: ComfyUI API-format workflows with "{{key}}" placeholders, and the manifest that says which inputs
// a chat user may set, their defaults and types. Pure: the directory is read by template-dir.ts.
import { randomInt } from "node:crypto";

/** "image": a photo from the chat, uploaded to ComfyUI; the value is where the bytes are kept (a media id). */
export type InputType = "string" | "int" | "float" | "bool" | "image";
export type InputValue = string | number | boolean;

export interface Template {
  id: string;
  /** File name relative to the templates directory. */
  path: string;
  /** The inputs a chat user may set, in manifest order. */
  allowedInputs: string[];
  defaults: Record<string, InputValue>;
  types: Record<string, InputType>;
  /** Image inputs in manifest order, with the node input each one fills (a LoadImage's `image`). */
  imageInputs: ImageSlot[];
  /** The API-format workflow: { "<node id>": { class_type, inputs } }. */
  workflow: Record<string, unknown>;
}

export interface ImageSlot {
  input: string;
  node: string;
  field: string;
}

export interface ManifestEntry {
  path: string;
  allowed_inputs?: string[];
  defaults?: Record<string, InputValue>;
  types?: Record<string, InputType>;
  /** Image inputs declared by where they go: {"image": {"node": "10", "field": "image"}}. */
  image_inputs?: Record<string, { node: string; field: string }>;
}

/** Free text after `/run <template>` goes to the single allowed input, else the first of these it has. */
export const PROMPT_INPUT_NAMES = ["positive_prompt", "prompt", "text", "positive", "caption"];

/** ComfyUI seeds are unsigned 64-bit; 48 bits is plenty of randomness and stays a safe JS integer. */
const MAX_RANDOM_SEED = 2 ** 48 - 1;

const TYPES = new Set<InputType>(["string", "int", "float", "bool", "image"]);
/** Nodes whose `image` input names a file in ComfyUI's input folder: a placeholder there is a photo. */
const IMAGE_LOADERS = new Set(["LoadImage", "LoadImageMask"]);
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Validates manifest.json's shape; every problem is named with its template id. */
export function parseManifest(raw: unknown): Map<string, ManifestEntry> {
  const fail = (why: string) => {
    throw new TemplateError(`manifest.json: ${why}`);
  };
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    fail('expected an object like {"version":1,"templates":{…}}');
  const m = raw as { version?: unknown; templates?: unknown };
  if (m.version !== 1) fail(`unsupported version ${JSON.stringify(m.version)}; expected 1`);
  if (!m.templates || typeof m.templates !== "object" || Array.isArray(m.templates))
    fail('"templates" must be an object of {id: {path, allowed_inputs, defaults}}');
  const out = new Map<string, ManifestEntry>();
  for (const [id, value] of Object.entries(m.templates as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) fail(`template id "${id}" must be 1-64 of A-Z a-z 0-9 _ . -`);
    if (!value || typeof value !== "object") fail(`template "${id}" must be an object`);
    const e = value as Record<string, unknown>;
    if (typeof e.path !== "string" || !e.path) fail(`template "${id}" needs a "path" to its workflow file`);
    if (
      e.allowed_inputs !== undefined &&
      (!Array.isArray(e.allowed_inputs) || e.allowed_inputs.some((k) => typeof k !== "string"))
    )
      fail(`template "${id}": allowed_inputs must be a list of names`);
    if (
      e.defaults !== undefined &&
      (typeof e.defaults !== "object" || Array.isArray(e.defaults) || e.defaults === null)
    )
      fail(`template "${id}": defaults must be an object`);
    if (e.types !== undefined) {
      if (typeof e.types !== "object" || Array.isArray(e.types) || e.types === null)
        fail(`template "${id}": types must be an object like {"steps":"int"}`);
      for (const [k, t] of Object.entries(e.types as Record<string, unknown>))
        if (!TYPES.has(t as InputType))
          fail(`template "${id}": type of "${k}" must be string, int, float, bool or image`);
    }
    const images = parseImageInputs(id, e.image_inputs, fail);
    out.set(id, {
      path: e.path as string,
      allowed_inputs: (e.allowed_inputs as string[] | undefined)?.map((k) => k.toLowerCase()),
      defaults: lowerKeys(e.defaults as Record<string, InputValue> | undefined),
      types: lowerKeys(e.types as Record<string, InputType> | undefined),
      ...(images ? { image_inputs: images } : {}),
    });
  }
  return out;
}

function parseImageInputs(
  id: string,
  raw: unknown,
  fail: (why: string) => never,
): Record<string, { node: string; field: string }> | undefined {
  if (raw === undefined) return undefined;
  const shape = `image_inputs must be an object like {"image": {"node": "10", "field": "image"}}`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail(`template "${id}": ${shape}`);
  const out: Record<string, { node: string; field: string }> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const slot = v as { node?: unknown; field?: unknown } | null;
    const node = typeof slot?.node === "number" ? String(slot.node) : slot?.node;
    const field = slot?.field ?? "image";
    if (typeof node !== "string" || !node || typeof field !== "string" || !field)
      fail(`template "${id}": image input "${k}": ${shape}`);
    out[k.toLowerCase()] = { node: node as string, field: field as string };
  }
  return out;
}

function lowerKeys<T>(o: Record<string, T> | undefined): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(o ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** The placeholder names a workflow uses, in first-seen order. */
export function placeholdersOf(workflow: unknown): string[] {
  const seen = new Set<string>();
  walk(workflow, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) seen.add(m[1]!.toLowerCase());
    return s;
  });
  return [...seen];
}

/** Builds a Template; without a manifest entry the workflow's placeholders are its inputs. */
export function makeTemplate(id: string, path: string, workflow: unknown, entry?: ManifestEntry): Template {
  if (!workflow || typeof workflow !== "object" || Array.isArray(workflow))
    throw new TemplateError(`template "${id}" (${path}) is not an API-format workflow object`);
  const nodes = Object.values(workflow as Record<string, unknown>);
  if (nodes.length === 0 || nodes.some((n) => !n || typeof n !== "object" || !("class_type" in n)))
    throw new TemplateError(
      `template "${id}" (${path}) is not in ComfyUI API format: every node needs class_type (use "Save (API Format)" in ComfyUI)`,
    );
  const wf = declareImageInputs(id, path, workflow as Record<string, Node>, entry?.image_inputs ?? {});
  const declared = Object.keys(entry?.image_inputs ?? {});
  const listed = entry?.allowed_inputs ?? placeholdersOf(wf);
  const allowed = [...listed, ...declared.filter((k) => !listed.includes(k))];
  const defaults = entry?.defaults ?? {};
  const where = wholePlaceholders(wf);
  const types: Record<string, InputType> = {};
  for (const k of allowed) {
    const loader = where.get(k)?.some((s) => IMAGE_LOADERS.has(s.classType) && s.field === "image");
    types[k] =
      entry?.types?.[k] ??
      (declared.includes(k) || (loader && !(k in defaults)) ? "image" : inferType(k, defaults[k]));
  }
  const imageInputs: ImageSlot[] = [];
  for (const k of allowed.filter((k) => types[k] === "image")) {
    const slots = where.get(k) ?? [];
    if (!slots.length)
      throw new TemplateError(
        `template "${id}" (${path}): image input "${k}" must be the whole value of a node input, e.g. "image": "{{${k}}}" in a LoadImage node, or declared in image_inputs`,
      );
    for (const s of slots) imageInputs.push({ input: k, node: s.node, field: s.field });
  }
  return { id, path, allowedInputs: allowed, defaults, types, imageInputs, workflow: wf };
}

type Node = { class_type: string; inputs?: Record<string, unknown> };

/** A copy of the workflow with "{{name}}" put where the manifest's image_inputs say each photo goes. */
function declareImageInputs(
  id: string,
  path: string,
  workflow: Record<string, Node>,
  decl: Record<string, { node: string; field: string }>,
): Record<string, unknown> {
  const out = structuredClone(workflow);
  for (const [k, { node, field }] of Object.entries(decl)) {
    const n = out[node];
    if (!n?.inputs || !(field in n.inputs))
      throw new TemplateError(
        `template "${id}" (${path}): image input "${k}" names node ${node} input "${field}", which the workflow does not have`,
      );
    n.inputs[field] = `{{${k}}}`;
  }
  return out;
}

/** Where each placeholder is the whole value of a node input: name → [{node, field, classType}]. */
function wholePlaceholders(workflow: Record<string, unknown>) {
  const out = new Map<string, { node: string; field: string; classType: string }[]>();
  for (const [node, n] of Object.entries(workflow as Record<string, Node>)) {
    for (const [field, v] of Object.entries(n.inputs ?? {})) {
      const m = typeof v === "string" ? WHOLE_PLACEHOLDER.exec(v) : null;
      if (!m) continue;
      const k = m[1]!.toLowerCase();
      out.set(k, [...(out.get(k) ?? []), { node, field, classType: n.class_type }]);
    }
  }
  return out;
}

function inferType(key: string, def: InputValue | undefined): InputType {
  if (typeof def === "boolean") return "bool";
  if (typeof def === "number") return Number.isInteger(def) ? "int" : "float";
  if (key === "seed" || key === "steps" || key === "width" || key === "height" || key === "batch_size")
    return "int";
  if (key === "cfg" || key === "denoise") return "float";
  return "string";
}

/** Converts a chat value to the input's type, with an error that says what was expected. */
export function coerce(key: string, raw: string, type: InputType): InputValue {
  const v = raw.trim();
  switch (type) {
    case "int":
      if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
        throw new TemplateError(`${key} must be a whole number, got "${raw}"`);
      return Number(v);
    case "float":
      if (v === "" || !Number.isFinite(Number(v)))
        throw new TemplateError(`${key} must be a number, got "${raw}"`);
      return Number(v);
    case "bool":
      if (/^(true|yes|on|1)$/i.test(v)) return true;
      if (/^(false|no|off|0)$/i.test(v)) return false;
      throw new TemplateError(`${key} must be true or false, got "${raw}"`);
    default:
      return raw;
  }
}

/** Which input free text goes to: the single allowed input, else the first prompt-like one. */
export function promptInputOf(t: Template): string | undefined {
  const text = t.allowedInputs.filter((k) => t.types[k] !== "image");
  if (text.length === 1) return text[0];
  return PROMPT_INPUT_NAMES.find((k) => text.includes(k));
}

/** The inputs that take a photo, in manifest order. */
export function imageInputsOf(t: Template): string[] {
  return t.allowedInputs.filter((k) => t.types[k] === "image");
}

/** The image inputs that have no default: a run needs a photo for each. */
export function requiredImages(t: Template): string[] {
  return imageInputsOf(t).filter((k) => !(k in t.defaults));
}

/** What to tell someone who ran an image template without a photo. */
export function photoUsage(id: string): string {
  return `send a photo with the caption /run ${id}, or reply to a photo with /run ${id}`;
}

/**
 * Checks the number of photos against the template before anything is downloaded: a template that needs a photo
 * run without one gets the usage, and a photo sent to a template that takes none is refused (running it anyway
 * would spend GPU time on something the sender did not ask for).
 */
export function checkPhotos(t: Template, photos: number) {
  if (photos > 0 && imageInputsOf(t).length === 0)
    throw new TemplateError(
      `Template ${t.id} takes no image, so nothing was queued. Send /run ${t.id} without a photo, or pick a template that takes one (/templates marks them "photo").`,
    );
  const needed = requiredImages(t);
  if (photos < needed.length)
    throw new TemplateError(
      needed.length === 1
        ? `Template ${t.id} needs a photo: ${photoUsage(t.id)}.`
        : `Template ${t.id} needs ${needed.length} photos (${needed.join(", ")}): send them together with the caption /run ${t.id}.`,
    );
}

export interface RunRequest {
  /** k=v pairs as typed (keys lower-cased by the lexer). */
  kv: Record<string, string>;
  /** Text after the template id that is not a k=v pair. */
  freeText?: string;
  /** The stored photos (media ids), filling the image inputs in manifest order. */
  images?: string[];
}

/**
 * Resolves the inputs for one run: allowed keys only, typed, defaults filled in, free text mapped to the prompt
 * input, seed=-1 replaced by a random seed. The result is what gets stored (approvals, jobs) and rendered.
 */
export function resolveInputs(t: Template, req: RunRequest, random = () => randomInt(0, MAX_RANDOM_SEED)) {
  const unknown = Object.keys(req.kv).filter((k) => !t.allowedInputs.includes(k));
  if (unknown.length)
    throw new TemplateError(
      `Unknown input${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} for template ${t.id}. ` +
        (t.allowedInputs.length ? `Allowed inputs: ${t.allowedInputs.join(", ")}.` : "It takes no inputs."),
    );
  checkPhotos(t, req.images?.length ?? 0);
  const photoKey = Object.keys(req.kv).find((k) => t.types[k] === "image");
  if (photoKey) throw new TemplateError(`${photoKey} takes a photo, not text: ${photoUsage(t.id)}.`);
  const inputs: Record<string, InputValue> = { ...t.defaults };
  for (const [k, raw] of Object.entries(req.kv)) inputs[k] = coerce(k, raw, t.types[k] ?? "string");
  const imageKeys = imageInputsOf(t);
  for (const [i, media] of (req.images ?? []).slice(0, imageKeys.length).entries())
    inputs[imageKeys[i]!] = media;
  const free = req.freeText?.trim();
  if (free) {
    const target = promptInputOf(t);
    if (!target)
      throw new TemplateError(
        `Template ${t.id} has no prompt input for free text. Use k=v with: ${t.allowedInputs.join(", ") || "(no inputs)"}.`,
      );
    if (target in req.kv)
      throw new TemplateError(`Give the ${target} either as free text or as ${target}=…, not both.`);
    inputs[target] = coerce(target, free, t.types[target] ?? "string");
  }
  for (const [k, v] of Object.entries(inputs)) {
    if (isSeedKey(k, t) && (v === -1 || v === "-1")) inputs[k] = random();
  }
  return inputs;
}

function isSeedKey(key: string, t: Template): boolean {
  return key === "seed" || key === "noise_seed" || (key.endsWith("_seed") && t.types[key] !== "string");
}

/**
 * Returns a copy of the workflow with placeholders replaced: a string that is exactly "{{key}}" becomes the typed
 * value; "{{key}}" inside a longer string is replaced as text. A placeholder without a value is an error.
 */
export function renderWorkflow(t: Template, inputs: Record<string, InputValue>): Record<string, unknown> {
  const missing = new Set<string>();
  const out = walk(structuredClone(t.workflow), (s) => {
    const whole = WHOLE_PLACEHOLDER.exec(s);
    if (whole) {
      const k = whole[1]!.toLowerCase();
      if (!(k in inputs)) {
        missing.add(k);
        return s;
      }
      return inputs[k]!;
    }
    return s.replace(PLACEHOLDER, (m, key: string) => {
      const k = key.toLowerCase();
      if (!(k in inputs)) {
        missing.add(k);
        return m;
      }
      return String(inputs[k]);
    });
  }) as Record<string, unknown>;
  const photo = [...missing].find((k) => t.types[k] === "image");
  if (photo) throw new TemplateError(`Template ${t.id} needs a photo: ${photoUsage(t.id)}.`);
  if (missing.size)
    throw new TemplateError(
      `Template ${t.id} needs ${[...missing].map((k) => `${k}=…`).join(", ")} (no default in the manifest).`,
    );
  return out;
}

function walk(value: unknown, onString: (s: string) => unknown): unknown {
  if (typeof value === "string") return onString(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, onString));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = walk(o[k], onString);
    return o;
  }
  return value;
}

/** "txt2img — inputs: prompt (string), steps (int, default 20)" for /templates. */
export function describeTemplate(t: Template): string {
  if (!t.allowedInputs.length) return `${t.id} — no inputs`;
  const parts = t.allowedInputs.map((k) => {
    const d = t.defaults[k];
    if (t.types[k] === "image")
      return `${k} (photo${d !== undefined ? `, default ${JSON.stringify(d)}` : ""})`;
    return `${k} (${t.types[k]}${d !== undefined ? `, default ${JSON.stringify(d)}` : ""})`;
  });
  const p = promptInputOf(t);
  return `${t.id} — inputs: ${parts.join(", ")}${p ? `; free text → ${p}` : ""}`;
}
