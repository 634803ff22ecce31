// Versioned schema for the PostgreSQL store, the same tables as the SQLite store (src/store/sqlite/
// migrations.ts). Append new migrations; never edit an applied one. Times are epoch milliseconds (BIGINT);
// the coordination columns (available_at, lease_until, expires_at, leases.until) are written from the
// database clock so replicas with skewed clocks still agree on who holds what.

import { inboxLanesTable, outboxLanesTable } from "../lanes.ts";
import { mediaTable, schemaV1 } from "../schema.ts";
import { workspacesTables } from "../workspaces-sql.ts";
import { OPEN_LANES_TRIGGER, OUTBOX_OPEN_LANES_TRIGGER } from "./lanes-claim.ts";

export const postgresMigrations: string[] = [
  schemaV1("postgres"),
  // Claims walk unfinished items in queue order; without these the planner walks the primary key and filters
  // out every finished row (the tables keep them), so a claim got slower as history grew (22 ms at 45k rows).
  `
  CREATE INDEX inbox_open_seq ON inbox(seq) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_open_id ON outbox(id) WHERE state IN ('pending', 'leased');
  `,
  mediaTable("postgres"),
  inboxLanesTable("postgres") + OPEN_LANES_TRIGGER,
  workspacesTables("postgres"),
  outboxLanesTable("postgres", OUTBOX_OPEN_LANES_TRIGGER),
];
