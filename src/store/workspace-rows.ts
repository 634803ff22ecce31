// The workspace tables (src/store/workspaces-sql.ts) as typed calls, shared by both stores: a store hands in how
// it runs one statement. Deleting a workspace removes its rows child first and the workspace row last, so a
// delete cut short by a crash is finished by deleting again.
import type { Row } from "./rows.ts";
import type { Sql } from "./sql.ts";
import { WS } from "./workspaces-sql.ts";

export interface StatementRunner {
  one(q: Sql, args: unknown[]): Promise<Row | undefined>;
  all(q: Sql, args: unknown[]): Promise<Row[]>;
  changes(q: Sql, args: unknown[]): Promise<number>;
}

export interface Workspace {
  id: string;
  name: string;
  systemPrompt: string | null;
  agentUrl: string | null;
  model: string | null;
  createdAt: number;
  updatedAt: number;
}

export type WorkspaceFields = Pick<Workspace, "name" | "systemPrompt" | "agentUrl" | "model">;

export interface WorkspaceFile {
  id: string;
  workspaceId: string;
  mediaId: string;
  name: string;
  mime: string;
  size: number;
  pinned: boolean;
  /** Characters of extracted text (0 when the file has none). */
  textChars: number;
  createdAt: number;
}

export interface Memory {
  id: string;
  workspaceId: string;
  text: string;
  source: "user" | "agent";
  /** A proposal from the agent waits for the user to confirm it; only saved memories reach the agent. */
  state: "saved" | "proposed";
  sessionKey: string | null;
  vector: number[] | null;
  createdAt: number;
}

const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

function workspaceFrom(r: Row): Workspace {
  return {
    id: String(r.id),
    name: String(r.name),
    systemPrompt: s(r.system_prompt),
    agentUrl: s(r.agent_url),
    model: s(r.model),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function fileFrom(r: Row): WorkspaceFile {
  return {
    id: String(r.id),
    workspaceId: String(r.workspace_id),
    mediaId: String(r.media_id),
    name: String(r.name),
    mime: String(r.mime),
    size: Number(r.size),
    pinned: Number(r.pinned) === 1,
    textChars: Number(r.text_chars ?? (typeof r.text === "string" ? r.text.length : 0)),
    createdAt: Number(r.created_at),
  };
}

function memoryFrom(r: Row): Memory {
  return {
    id: String(r.id),
    workspaceId: String(r.workspace_id),
    text: String(r.text),
    source: r.source === "agent" ? "agent" : "user",
    state: r.state === "proposed" ? "proposed" : "saved",
    sessionKey: s(r.session_key),
    vector: typeof r.vector === "string" ? (JSON.parse(r.vector) as number[]) : null,
    createdAt: Number(r.created_at),
  };
}

export class WorkspaceRows {
  readonly #db: StatementRunner;

  constructor(db: StatementRunner) {
    this.#db = db;
  }

  async create(id: string, f: WorkspaceFields): Promise<Workspace> {
    await this.#db.changes(WS.insert, [id, f.name, f.systemPrompt, f.agentUrl, f.model, Date.now()]);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Workspace | undefined> {
    const r = await this.#db.one(WS.get, [id]);
    return r ? workspaceFrom(r) : undefined;
  }

  async list(): Promise<Workspace[]> {
    return (await this.#db.all(WS.list, [])).map(workspaceFrom);
  }

  async update(id: string, f: WorkspaceFields): Promise<boolean> {
    return (
      (await this.#db.changes(WS.update, [id, f.name, f.systemPrompt, f.agentUrl, f.model, Date.now()])) === 1
    );
  }

  /** The thread sessions of the workspace, for the caller to delete with their history before `delete`. */
  async threads(id: string): Promise<string[]> {
    return (await this.#db.all(WS.threadsOf, [id])).map((r) => String(r.session_key));
  }

  /** Files (bytes and metadata), memories with their vectors, thread links, then the workspace itself. */
  async delete(id: string): Promise<boolean> {
    await this.#db.changes(WS.deleteMedia, [`workspace:${id}`]);
    await this.#db.changes(WS.deleteFiles, [id]);
    await this.#db.changes(WS.deleteMemories, [id]);
    await this.#db.changes(WS.forgetThreads, [id]);
    return (await this.#db.changes(WS.delete, [id])) === 1;
  }

  async assignThread(sessionKey: string, workspaceId: string): Promise<void> {
    await this.#db.changes(WS.assignThread, [sessionKey, workspaceId]);
  }

  async workspaceOf(sessionKey: string): Promise<string | undefined> {
    const r = await this.#db.one(WS.workspaceOf, [sessionKey]);
    return r ? String(r.workspace_id) : undefined;
  }

  /** What belongs to a thread alone: its link to a workspace and the memories proposed in it, unconfirmed. */
  async forgetThread(sessionKey: string): Promise<void> {
    await this.#db.changes(WS.deleteThreadMemories, [sessionKey]);
    await this.#db.changes(WS.forgetThread, [sessionKey]);
  }

  async addFile(f: Omit<WorkspaceFile, "pinned" | "textChars" | "createdAt"> & { text: string | null }) {
    await this.#db.changes(WS.insertFile, [
      f.id,
      f.workspaceId,
      f.mediaId,
      f.name,
      f.mime,
      f.size,
      f.text,
      Date.now(),
    ]);
  }

  async files(workspaceId: string): Promise<WorkspaceFile[]> {
    return (await this.#db.all(WS.files, [workspaceId])).map(fileFrom);
  }

  async file(
    workspaceId: string,
    id: string,
  ): Promise<(WorkspaceFile & { text: string | null }) | undefined> {
    const r = await this.#db.one(WS.file, [workspaceId, id]);
    return r ? { ...fileFrom(r), text: s(r.text) } : undefined;
  }

  async pinnedTexts(workspaceId: string): Promise<{ id: string; name: string; text: string }[]> {
    return (await this.#db.all(WS.pinnedFiles, [workspaceId])).map((r) => ({
      id: String(r.id),
      name: String(r.name),
      text: String(r.text ?? ""),
    }));
  }

  async usedBytes(workspaceId: string): Promise<number> {
    return Number((await this.#db.one(WS.usedBytes, [workspaceId]))?.n ?? 0);
  }

  async pinFile(workspaceId: string, id: string, pinned: boolean): Promise<boolean> {
    return (await this.#db.changes(WS.pinFile, [workspaceId, id, pinned ? 1 : 0])) === 1;
  }

  async deleteFile(workspaceId: string, id: string): Promise<boolean> {
    return (await this.#db.changes(WS.deleteFile, [workspaceId, id])) === 1;
  }

  async addMemory(m: Omit<Memory, "createdAt">): Promise<void> {
    const vector = m.vector ? JSON.stringify(m.vector) : null;
    await this.#db.changes(WS.insertMemory, [
      m.id,
      m.workspaceId,
      m.text,
      m.source,
      m.state,
      m.sessionKey,
      vector,
      Date.now(),
    ]);
  }

  async memories(workspaceId: string): Promise<Memory[]> {
    return (await this.#db.all(WS.memories, [workspaceId])).map(memoryFrom);
  }

  async memory(workspaceId: string, id: string): Promise<Memory | undefined> {
    const r = await this.#db.one(WS.memory, [workspaceId, id]);
    return r ? memoryFrom(r) : undefined;
  }

  async confirmMemory(workspaceId: string, id: string): Promise<boolean> {
    return (await this.#db.changes(WS.confirmMemory, [workspaceId, id])) === 1;
  }

  async setVector(workspaceId: string, id: string, vector: number[]): Promise<void> {
    await this.#db.changes(WS.setVector, [workspaceId, id, JSON.stringify(vector)]);
  }

  async deleteMemory(workspaceId: string, id: string): Promise<boolean> {
    return (await this.#db.changes(WS.deleteMemory, [workspaceId, id])) === 1;
  }
}
