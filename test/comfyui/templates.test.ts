import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { loadTemplates } from "../../src/targets/comfyui/template-dir.ts";
import {
  describeTemplate,
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
      /type of "a" must be string, int, float, bool or image/,
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

describe("image inputs", () => {
  const img2img = {
    "6": { class_type: "CLIPTextEncode", inputs: { text: "{{prompt}}" } },
    "10": { class_type: "LoadImage", inputs: { image: "example.png" } },
    "3": { class_type: "KSampler", inputs: { denoise: "{{denoise}}" } },
  };
  const M = "m_0123456789abcdef0123456789abcdef";

  it("image_inputs in the manifest names the node and field the photo fills", () => {
    const e = parseManifest({
      version: 1,
      templates: {
        i: {
          path: "i.json",
          allowed_inputs: ["prompt", "denoise"],
          defaults: { denoise: 0.6 },
          image_inputs: { Image: { node: 10 } },
        },
      },
    }).get("i")!;
    const t = makeTemplate("i", "i.json", img2img, e);
    assert.deepEqual(t.allowedInputs, ["prompt", "denoise", "image"]);
    assert.equal(t.types.image, "image");
    assert.deepEqual(t.imageInputs, [{ input: "image", node: "10", field: "image" }]);
    const inputs = resolveInputs(t, { kv: {}, freeText: "a watercolor", images: [M] });
    assert.equal(inputs.prompt, "a watercolor");
    const out = renderWorkflow(t, inputs) as Record<string, { inputs: Record<string, unknown> }>;
    assert.equal(out["10"]!.inputs.image, M);
    assert.equal(img2img["10"].inputs.image, "example.png", "the workflow file is untouched");
  });

  it("a {{placeholder}} in a LoadImage's image is a photo input without a manifest", () => {
    const t = makeTemplate("p", "p.json", {
      "1": { class_type: "LoadImage", inputs: { image: "{{photo}}" } },
      "2": { class_type: "X", inputs: { text: "{{caption}}" } },
    });
    assert.equal(t.types.photo, "image");
    // Free text goes to the one text input, not to the photo.
    assert.equal(resolveInputs(t, { kv: {}, freeText: "hi", images: [M] }).caption, "hi");
    assert.match(
      describeTemplate(t),
      /^p — inputs: photo \(photo\), caption \(string\); free text → caption$/,
    );
  });

  it("the photo count and k=v on a photo input are checked with what to do", () => {
    const t = makeTemplate("p", "p.json", {
      "1": { class_type: "LoadImage", inputs: { image: "{{photo}}" } },
    });
    assert.throws(
      () => resolveInputs(t, { kv: {} }),
      /^TemplateError: Template p needs a photo: send a photo with the caption \/run p, or reply to a photo with \/run p\.$/,
    );
    assert.throws(
      () => resolveInputs(t, { kv: { photo: "/etc/passwd" }, images: [M] }),
      /photo takes a photo, not text: send a photo with the caption \/run p/,
    );
    const none = makeTemplate("n", "n.json", workflow, entry);
    assert.throws(() => resolveInputs(none, { kv: {}, images: [M] }), /Template n takes no image/);
    // A default (a file already in ComfyUI's input folder) makes the photo optional.
    const opt = makeTemplate(
      "o",
      "o.json",
      { "1": { class_type: "LoadImage", inputs: { image: "{{photo}}" } } },
      {
        path: "o.json",
        defaults: { photo: "example.png" },
        types: { photo: "image" },
      },
    );
    assert.deepEqual(
      (
        renderWorkflow(opt, resolveInputs(opt, { kv: {} })) as Record<
          string,
          { inputs: Record<string, unknown> }
        >
      )["1"]!.inputs.image,
      "example.png",
    );
  });

  it("a declared image input that fills no node input is refused at load", () => {
    assert.throws(
      () =>
        makeTemplate("b", "b.json", img2img, {
          path: "b.json",
          image_inputs: { image: { node: "99", field: "image" } },
        }),
      /image input "image" names node 99 input "image", which the workflow does not have/,
    );
    assert.throws(
      () =>
        makeTemplate(
          "b",
          "b.json",
          { "1": { class_type: "X", inputs: { text: "a {{pic}} b" } } },
          {
            path: "b.json",
            types: { pic: "image" },
          },
        ),
      /image input "pic" must be the whole value of a node input/,
    );
    assert.throws(
      () => parseManifest({ version: 1, templates: { b: { path: "b.json", image_inputs: ["image"] } } }),
      /image_inputs must be an object like/,
    );
  });
});
