// A run's photos go to the ComfyUI server that runs it: uploaded into its input folder (POST /upload/image)
// just before the prompt is sent there, so with several servers, and on failover to the next one, each server
// has the file its LoadImage names.
import { randomUUID } from "node:crypto";
import { extensionFor } from "../../media/content-type.ts";
import { MediaStore } from "../../media/store.ts";
import type { ComfyClient } from "./client.ts";
import { type InputValue, type Template, TemplateError } from "./templates.ts";

/** Uploads land in input/clawgate/, apart from the files an operator put there. */
export const UPLOAD_SUBFOLDER = "clawgate";

export type WorkflowFor = (client: ComfyClient) => Promise<Record<string, unknown>>;

/**
 * undefined when no image input holds a stored photo (a default file name already on the server is used as it
 * is); otherwise a function that uploads the photos to one server and returns the workflow naming them there.
 */
export function uploadsFor(
  t: Template,
  inputs: Record<string, InputValue>,
  workflow: Record<string, unknown>,
  media: MediaStore,
): WorkflowFor | undefined {
  const slots = t.imageInputs.filter((s) => {
    const v = inputs[s.input];
    return typeof v === "string" && MediaStore.isId(v);
  });
  if (!slots.length) return undefined;
  return async (client) => {
    const out = structuredClone(workflow) as Record<string, { inputs: Record<string, unknown> }>;
    const uploaded = new Map<string, string>();
    for (const s of slots) {
      const id = inputs[s.input] as string;
      let name = uploaded.get(id);
      if (!name) {
        const file = await media.read(id);
        if (!file)
          throw new TemplateError(
            `The photo for ${t.id} is no longer kept (it expired before the job could start): send it again with the caption /run ${t.id}.`,
          );
        const r = await client.uploadImage(
          file.bytes,
          `${randomUUID()}.${extensionFor(file.mime)}`,
          file.mime,
          UPLOAD_SUBFOLDER,
        );
        // LoadImage takes "subfolder/name" for a file below the input folder.
        name = r.subfolder ? `${r.subfolder}/${r.name}` : r.name;
        uploaded.set(id, name);
      }
      out[s.node]!.inputs[s.field] = name;
    }
    return out;
  };
}
