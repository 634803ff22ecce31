// The WebSocket client id clawgate submits with. ComfyUI sends a prompt's events only to the socket of the
// client id that submitted it, so the id must outlive the process: a gateway that restarts with a new id never
// hears from the jobs it started. It is stable per deployment: `comfyui.clientId` /
// CLAWGATE_COMFYUI_CLIENT_ID when set (give each replica its own), otherwise an id kept in the data directory
// (replicas with their own data directories get their own). Two live sockets with one id would steal each
// other's events: ComfyUI keeps only the newest.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CLIENT_ID_FILE = "comfyui-client-id";
export const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function stableClientId(dataDir: string, configured?: string): string {
  if (configured) {
    if (!CLIENT_ID.test(configured))
      throw new Error(`the ComfyUI client id "${configured}" must be 1-64 of A-Z a-z 0-9 _ -`);
    return configured;
  }
  const file = join(dataDir, CLIENT_ID_FILE);
  try {
    const kept = readFileSync(file, "utf8").trim();
    if (CLIENT_ID.test(kept)) return kept;
  } catch {
    // first start
  }
  const id = `clawgate-${randomBytes(8).toString("hex")}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
