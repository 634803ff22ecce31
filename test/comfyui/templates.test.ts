import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { loadTemplates } from "../../src/targets/comfyui/template-dir.ts";
import {
  makeTemplate,
  parseManifest,
  renderWorkflow,
  resolveInputs,
  TemplateError,
} from "../../src/targets/comfyui/templates.ts";
import { tempDir } from "../helpers/gateway.ts";

const workflow = {
  "3": { class_type: "KSampler", inputs: { seed: "{{seed}}", steps: "{{steps}}", cfg: "{{cfg}}" } },
  "6": { class_type: "CLIPTextEncode", inputs: { text: "{{prompt}}, masterpiece" } },
  "7": { class_type: "CLIPTextEncode", inputs: { text: "{{negative}}" } },
};

const entry = parseManifest({
  version: 1,
  templates: {
    t: {
      path: "t.json",
      allowed_inputs: ["prompt", "negative", "steps", "seed", "cfg"],
      defaults: { negative: "blurry", steps: 20, seed: -1, cfg: 7 },
      types: { cfg: "float" },
    },
  },
}).get("t")!;

describe("templates", () => {
  const t = makeTemplate("t", "t.json", workflow, entry);

  it("replaces a whole-string placeholder with the typed value and a partial one as text", () => {
    const inputs = resolveInputs(t, { kv: { steps: "30", seed: "42", cfg: "6.5" }, freeText: "a red fox" });
    const out = renderWorkflow(t, inputs) as Record<string, { inputs: Record<string, unknown> }>;
    assert.equal(out["3"]!.inputs.steps, 30);
    assert.equal(out["3"]!.inputs.seed, 42);
    assert.equal(out["3"]!.inputs.cfg, 6.5);
    assert.equal(out["6"]!.inputs.text, "a red fox, masterpiece");
    assert.equal(out["7"]!.inputs.text, "blurry");
    // The template itself is untouched.
    assert.equal((workflow["3"].inputs as Record<string, unknown>).steps, "{{steps}}");
  });

  it("free text goes to the prompt input, not the default (connector bug)", () => {
    const withDefault = makeTemplate("d", "d.json", workflow, {
      ...entry,
      defaults: { ...entry.defaults, prompt: "default prompt" },
    });
    assert.equal(resolveInputs(withDefault, { kv: {}, freeText: "my own words" }).prompt, "my own words");
    assert.equal(resolveInputs(withDefault, { kv: {} }).prompt, "default prompt");
  });

  it("free text goes to the only input when there is exactly one", () => {
    const one = makeTemplate("one", "one.json", {
      "1": { class_type: "X", inputs: { caption: "{{desc}}" } },
    });
    assert.deepEqual(one.allowedInputs, ["desc"]);
    assert.equal(resolveInputs(one, { kv: {}, freeText: "hello there" }).desc, "hello there");
  });

  it("seed=-1 (and a default of -1) becomes a random seed", () => {
    const a = resolveInputs(t, { kv: { seed: "-1" }, freeText: "x" }, () => 12345);
    assert.equal(a.seed, 12345);
    const b = resolveInputs(t, { kv: {}, freeText: "x" });
    assert.equal(typeof b.seed, "number");
    assert.notEqual(b.seed, -1);
    assert.ok((b.seed as number) >= 0);
  });

  it("an unknown input is refused with the list of allowed inputs", () => {
    assert.throws(
      () => resolveInputs(t, { kv: { sampler: "euler" } }),
      (err: Error) =>
        err instanceof TemplateError &&
        /Unknown input "sampler" for template t/.test(err.message) &&
        /Allowed inputs: prompt, negative, steps, seed, cfg/.test(err.message),
    );
  });

  it("bad typed values say what was expected", () => {
    assert.throws(
      () => resolveInputs(t, { kv: { steps: "many" } }),
      /steps must be a whole number, got "many"/,
    );
    assert.throws(() => resolveInputs(t, { kv: { cfg: "high" } }), /cfg must be a number/);
  });

  it("a placeholder with no value and no default is named", () => {
    assert.throws(() => renderWorkflow(t, resolveInputs(t, { kv: {} })), /needs prompt=…/);
  });

  it("free text without a prompt input, or given twice, is refused clearly", () => {
    const noPrompt = makeTemplate("np", "np.json", {
      "1": { class_type: "X", inputs: { a: "{{w}}", b: "{{h}}" } },
    });
    assert.throws(
      () => resolveInputs(noPrompt, { kv: {}, freeText: "hi" }),
      /no prompt input for free text.*w, h/,
    );
    assert.throws(
      () => resolveInputs(t, { kv: { prompt: "a" }, freeText: "b" }),
      /either as free text or as prompt=/,
    );
  });

  it("a manifest with a bad shape is refused with the template named", () => {
    assert.throws(() => parseManifest({ version: 2, templates: {} }), /unsupported version 2/);
    assert.throws(() => parseManifest({ version: 1, templates: { x: {} } }), /template "x" needs a "path"/);
    assert.throws(
      () => parseManifest({ version: 1, templates: { x: { path: "x.json", types: { a: "date" } } } }),
      /type of "a" must be string, int, float or bool/,
    );
  });

  it("a UI-format workflow (not API format) is refused with a hint", () => {
    assert.throws(() => makeTemplate("ui", "ui.json", { nodes: [], links: [] }), /API format/);
  });
});

describe("templates directory", () => {
  it("the shipped example loads and renders", async () => {
    const set = await loadTemplates(resolve(import.meta.dirname, "../../examples/templates"));
    assert.deepEqual(set.problems, []);
    const t = set.templates.get("txt2img")!;
    const out = renderWorkflow(t, resolveInputs(t, { kv: { steps: "4" }, freeText: "a cat" })) as Record<
      string,
      { inputs: Record<string, unknown> }
    >;
    assert.equal(out["6"]!.inputs.text, "a cat, high quality");
    assert.equal(out["3"]!.inputs.steps, 4);
    assert.equal(out["4"]!.inputs.ckpt_name, "v1-5-pruned-emaonly.safetensors");
  });

  it("without a manifest every workflow file is a template; a path outside the directory is refused", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.json"), JSON.stringify(workflow));
    writeFileSync(join(dir, "broken.json"), "{nope");
    let set = await loadTemplates(dir);
    assert.deepEqual([...set.templates.keys()], ["a"]);
    assert.match(set.problems[0]!, /broken.*not valid JSON/);

    const d2 = tempDir();
    mkdirSync(join(d2, "sub"));
    writeFileSync(
      join(d2, "manifest.json"),
      JSON.stringify({ version: 1, templates: { evil: { path: "../x.json" } } }),
    );
    set = await loadTemplates(d2);
    assert.equal(set.templates.size, 0);
    assert.match(set.problems[0]!, /leaves the templates directory/);
  });
});
