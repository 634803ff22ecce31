// Versioned schema for the PostgreSQL store, the same tables as the SQLite store (src/store/sqlite/
// migrations.ts). Append new migrations; never edit an applied one. Times are epoch milliseconds (BIGINT);
// the coordination columns (available_at, lease_until, expires_at, leases.until) are written from the
// database clock so replicas with skewed clocks still agree on who holds what.

export const postgresMigrations: string[] = [
  `
  CREATE TABLE inbox (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX inbox_open_lane ON inbox(session_key, seq) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_open_ready ON inbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_state ON inbox(state, seq);

  CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    result TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX outbox_open_lane ON outbox(session_key, id) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_open_ready ON outbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_state ON outbox(state, id);

  CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 1,
    title TEXT,
    last_message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX sessions_updated ON sessions(updated_at);

  CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    session_key TEXT NOT NULL,
    generation INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    event_id TEXT,
    author TEXT,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX messages_session ON messages(session_key, id);

  CREATE TABLE kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (namespace, key)
  );

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
  );
  `,
  // Claims walk unfinished items in queue order; without these the planner walks the primary key and filters
  // out every finished row (the tables keep them), so a claim got slower as history grew (22 ms at 45k rows).
  `
  CREATE INDEX inbox_open_seq ON inbox(seq) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_open_id ON outbox(id) WHERE state IN ('pending', 'leased');
  `,
];
