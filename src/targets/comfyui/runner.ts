// Turns "template + inputs" into a job, the same way for /run, an approved request and a schedule tick. The
// inputs are resolved (typed, defaults, random seed) once, before an approval is stored, so what the admin
// approves is exactly what runs.
import type { DeliveryAddress } from "../../core/event.ts";
import type { MediaStore } from "../../media/store.ts";
import type { JobRecord } from "./job-store.ts";
import type { JobTracker } from "./jobs.ts";
import { loadTemplates } from "./template-dir.ts";
import { type InputValue, renderWorkflow, resolveInputs, type Template, TemplateError } from "./templates.ts";
import { uploadsFor } from "./uploads.ts";

export interface Prepared {
  template: Template;
  inputs: Record<string, InputValue>;
  workflow: Record<string, unknown>;
}

export class TemplateRunner {
  readonly #dir: string;
  readonly #tracker: JobTracker;
  /** Where a run's photos wait until they are uploaded to the server that runs it. */
  readonly #media: MediaStore;

  constructor(dir: string, tracker: JobTracker, media: MediaStore) {
    this.#dir = dir;
    this.#tracker = tracker;
    this.#media = media;
  }

  async templates() {
    return loadTemplates(this.#dir);
  }

  async get(id: string): Promise<Template> {
    const set = await this.templates();
    const t = set.templates.get(id);
    if (t) return t;
    const names = [...set.templates.keys()];
    throw new TemplateError(
      names.length
        ? `Unknown template "${id}". Available templates: ${names.join(", ")}. /templates shows their inputs.`
        : `Unknown template "${id}": there are no templates yet. ${set.problems[0] ?? ""}`.trim(),
    );
  }

  /** Validates a chat request completely (template, inputs, placeholders) without submitting it. */
  async prepare(
    id: string,
    kv: Record<string, string>,
    freeText?: string,
    images?: string[],
  ): Promise<Prepared> {
    const template = await this.get(id);
    const inputs = resolveInputs(template, { kv, freeText, images });
    return { template, inputs, workflow: renderWorkflow(template, inputs) };
  }

  /** Submits already-resolved inputs (from an approval or a schedule). */
  async runResolved(
    id: string,
    inputs: Record<string, InputValue>,
    deliverTo: DeliveryAddress,
    meta: Pick<JobRecord, "source" | "requestedBy" | "approvalId" | "scheduleId">,
  ): Promise<JobRecord> {
    const template = await this.get(id);
    const workflow = renderWorkflow(template, inputs);
    const workflowFor = uploadsFor(template, inputs, workflow, this.#media);
    return this.#tracker.submit({ template: id, workflow, inputs, deliverTo, workflowFor, ...meta });
  }

  async submit(
    p: Prepared,
    deliverTo: DeliveryAddress,
    meta: Pick<JobRecord, "source" | "requestedBy" | "scheduleId">,
  ) {
    return this.#tracker.submit({
      template: p.template.id,
      workflow: p.workflow,
      inputs: p.inputs,
      deliverTo,
      workflowFor: uploadsFor(p.template, p.inputs, p.workflow, this.#media),
      ...meta,
    });
  }
}

/** `/run txt2img steps=20 prompt="a cat"` — how a request is shown to admins. */
export function describeRun(template: string, inputs: Record<string, InputValue>, shown?: string[]): string {
  const keys = shown ?? Object.keys(inputs);
  const parts = keys.map((k) => {
    const v = inputs[k];
    const s = typeof v === "string" ? (/[\s"]/.test(v) || v === "" ? JSON.stringify(v) : v) : String(v);
    return `${k}=${s}`;
  });
  return `/run ${template}${parts.length ? ` ${parts.join(" ")}` : ""}`;
}

/** The seeds a run uses ("Seed: 123" / "Seeds: seed=1, noise_seed=2"), so a random seed can be reused. */
export function seedLine(inputs: Record<string, InputValue>): string | undefined {
  const seeds = Object.entries(inputs).filter(([k, v]) => /(^|_)seed$/.test(k) && typeof v === "number");
  if (!seeds.length) return undefined;
  if (seeds.length === 1 && seeds[0]![0] === "seed") return `Seed: ${seeds[0]![1]}`;
  return `Seeds: ${seeds.map(([k, v]) => `${k}=${v}`).join(", ")}`;
}
