// Versioned schema for the SQLite store. Append new migrations; never edit an applied one.

import { mediaTable, schemaV1 } from "../schema.ts";
import { workspacesTables } from "../workspaces-sql.ts";

export const sqliteMigrations: string[] = [
  schemaV1("sqlite"),
  mediaTable("sqlite"),
  workspacesTables("sqlite"),
];
