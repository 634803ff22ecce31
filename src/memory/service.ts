// Memory of a workspace: facts saved by the user or proposed by the agent (confirmed before they count), each
// with a vector when memory.embeddings.url is set, and the selection sent with a message: the newest facts,
// plus the ones most similar to the message when vectors exist.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { Memory, WorkspaceRows } from "../store/workspace-rows.ts";
import { EmbeddingsClient } from "./embeddings.ts";
import { nearest } from "./recall.ts";

export const MAX_MEMORY_CHARS = 500;
/** Saved facts always sent, newest first, whatever the message. */
const NEWEST = 20;

export class MemoryService {
  readonly #rows: WorkspaceRows;
  readonly #log: Logger;
  readonly #embeddings: EmbeddingsClient | undefined;
  readonly #topK: number;

  constructor(rows: WorkspaceRows, config: Config, log: Logger) {
    this.#rows = rows;
    this.#log = log;
    const e = config.memory.embeddings;
    this.#embeddings = e.url
      ? new EmbeddingsClient({ url: e.url, model: e.model, apiKey: e.apiKey, timeoutMs: e.timeoutMs })
      : undefined;
    this.#topK = e.topK;
  }

  async add(
    workspaceId: string,
    text: string,
    o: { source: Memory["source"]; state: Memory["state"]; sessionKey?: string },
  ): Promise<Memory> {
    const id = `mem_${randomBytes(8).toString("hex")}`;
    const vector = await this.#vector(text);
    const m = {
      id,
      workspaceId,
      text: text.slice(0, MAX_MEMORY_CHARS),
      source: o.source,
      state: o.state,
      sessionKey: o.sessionKey ?? null,
      vector,
    };
    await this.#rows.addMemory(m);
    return (await this.#rows.memory(workspaceId, id))!;
  }

  /** The saved facts to send with `message`. */
  async select(workspaceId: string, message: string): Promise<Memory[]> {
    const saved = (await this.#rows.memories(workspaceId)).filter((m) => m.state === "saved");
    if (saved.length <= NEWEST || !this.#embeddings) return saved.slice(-NEWEST);
    const newest = saved.slice(-NEWEST);
    const query = await this.#vector(message);
    if (!query) return newest;
    const picked = new Set([...nearest(query, saved.slice(0, -NEWEST), this.#topK), ...newest]);
    return saved.filter((m) => picked.has(m));
  }

  /** Facts most similar to `query` (an empty list without embeddings). */
  async recall(workspaceId: string, query: string, k = this.#topK): Promise<Memory[]> {
    const v = await this.#vector(query);
    if (!v) return [];
    const saved = (await this.#rows.memories(workspaceId)).filter((m) => m.state === "saved");
    return nearest(v, saved, k);
  }

  async #vector(text: string): Promise<number[] | null> {
    if (!this.#embeddings) return null;
    try {
      return (await this.#embeddings.embed([text]))[0] ?? null;
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "memory: no vector for this text");
      return null;
    }
  }
}
