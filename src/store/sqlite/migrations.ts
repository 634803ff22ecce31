// Versioned schema for the SQLite store. Append new migrations; never edit an applied one.

import { inboxLanesTable, outboxLanesTable, SQLITE_OUTBOX_OPEN_LANE } from "../lanes.ts";
import { mediaTable, schemaV1 } from "../schema.ts";
import { workspacesTables } from "../workspaces-sql.ts";
import { INBOX_WAITING_MIGRATION } from "./inbox-waiting.ts";

export const sqliteMigrations: string[] = [
  schemaV1("sqlite"),
  mediaTable("sqlite"),
  inboxLanesTable("sqlite"),
  workspacesTables("sqlite"),
  outboxLanesTable("sqlite", SQLITE_OUTBOX_OPEN_LANE),
  INBOX_WAITING_MIGRATION,
];
