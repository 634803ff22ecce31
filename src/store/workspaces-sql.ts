// Workspaces, their files' metadata, memories and memory vectors (src/workspaces, src/memory): the schema and
// the statements, spelled once for both stores like src/store/sql.ts. File bytes live in the media table
// (owner `workspace:<id>`), so every replica serves them; a memory's vector is JSON text beside it, searched by
// cosine in JavaScript (docs/webchat-api.md explains why not pgvector).
import type { Sql } from "./sql.ts";

export function workspacesTables(dialect: "sqlite" | "postgres"): string {
  const ms = dialect === "sqlite" ? "INTEGER" : "BIGINT";
  return `
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    system_prompt TEXT,
    agent_url TEXT,
    model TEXT,
    created_at ${ms} NOT NULL,
    updated_at ${ms} NOT NULL
  );
  CREATE TABLE workspace_threads (
    session_key TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL
  );
  CREATE INDEX workspace_threads_ws ON workspace_threads(workspace_id);
  CREATE TABLE workspace_files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    text TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    created_at ${ms} NOT NULL
  );
  CREATE INDEX workspace_files_ws ON workspace_files(workspace_id, created_at);
  CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    session_key TEXT,
    vector TEXT,
    created_at ${ms} NOT NULL
  );
  CREATE INDEX memories_ws ON memories(workspace_id, created_at);
  `;
}

const sql = (text: string): Sql => ({ text });

export const WS = {
  insert: sql(
    `INSERT INTO workspaces (id, name, system_prompt, agent_url, model, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)`,
  ),
  get: sql(`SELECT * FROM workspaces WHERE id = $1`),
  list: sql(`SELECT * FROM workspaces ORDER BY created_at, id{C} LIMIT 500`),
  update: sql(
    `UPDATE workspaces SET name = $2, system_prompt = $3, agent_url = $4, model = $5, updated_at = $6 WHERE id = $1`,
  ),
  delete: sql(`DELETE FROM workspaces WHERE id = $1`),

  assignThread: sql(
    `INSERT INTO workspace_threads (session_key, workspace_id) VALUES ($1, $2)
     ON CONFLICT (session_key) DO UPDATE SET workspace_id = excluded.workspace_id`,
  ),
  workspaceOf: sql(`SELECT workspace_id FROM workspace_threads WHERE session_key = $1`),
  threadsOf: sql(`SELECT session_key FROM workspace_threads WHERE workspace_id = $1`),
  forgetThread: sql(`DELETE FROM workspace_threads WHERE session_key = $1`),
  forgetThreads: sql(`DELETE FROM workspace_threads WHERE workspace_id = $1`),

  insertFile: sql(
    `INSERT INTO workspace_files (id, workspace_id, media_id, name, mime, size, text, pinned, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)`,
  ),
  files: sql(
    `SELECT id, workspace_id, media_id, name, mime, size, pinned, created_at, length(text) AS text_chars
     FROM workspace_files WHERE workspace_id = $1 ORDER BY created_at, id{C}`,
  ),
  file: sql(`SELECT * FROM workspace_files WHERE workspace_id = $1 AND id = $2`),
  pinnedFiles: sql(
    `SELECT id, name, text FROM workspace_files WHERE workspace_id = $1 AND pinned = 1 ORDER BY created_at, id{C}`,
  ),
  usedBytes: sql(`SELECT COALESCE(SUM(size), 0) AS n FROM workspace_files WHERE workspace_id = $1`),
  pinFile: sql(`UPDATE workspace_files SET pinned = $3 WHERE workspace_id = $1 AND id = $2`),
  deleteFile: sql(`DELETE FROM workspace_files WHERE workspace_id = $1 AND id = $2`),
  deleteFiles: sql(`DELETE FROM workspace_files WHERE workspace_id = $1`),
  deleteMedia: sql(`DELETE FROM media WHERE owner = $1`),

  insertMemory: sql(
    `INSERT INTO memories (id, workspace_id, text, source, state, session_key, vector, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  ),
  memories: sql(`SELECT * FROM memories WHERE workspace_id = $1 ORDER BY created_at, id{C} LIMIT 1000`),
  memory: sql(`SELECT * FROM memories WHERE workspace_id = $1 AND id = $2`),
  confirmMemory: sql(`UPDATE memories SET state = 'saved' WHERE workspace_id = $1 AND id = $2`),
  setVector: sql(`UPDATE memories SET vector = $3 WHERE workspace_id = $1 AND id = $2`),
  deleteMemory: sql(`DELETE FROM memories WHERE workspace_id = $1 AND id = $2`),
  deleteMemories: sql(`DELETE FROM memories WHERE workspace_id = $1`),
  deleteThreadMemories: sql(`DELETE FROM memories WHERE session_key = $1 AND state = 'proposed'`),
};
