// Versioned schema for the SQLite store. Append new migrations; never edit an applied one.

import { inboxLanesTable } from "../lanes.ts";
import { mediaTable, schemaV1 } from "../schema.ts";
import { workspacesTables } from "../workspaces-sql.ts";

export const sqliteMigrations: string[] = [
  schemaV1("sqlite"),
  mediaTable("sqlite"),
  inboxLanesTable("sqlite"),
  workspacesTables("sqlite"),
];
