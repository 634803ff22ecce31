// One rule for both dialects: which migrations a database still needs, and a refusal when a newer clawgate
// already migrated it (running old code on a newer schema would silently misread or corrupt its rows).

export class SchemaTooNewError extends Error {
  constructor(current: number, known: number) {
    super(
      `the database schema is version ${current} but this clawgate knows only ${known}: ` +
        "upgrade clawgate on every replica before starting it against this database",
    );
    this.name = "SchemaTooNewError";
  }
}

/** Indexes (0-based) into `migrations` still to apply to a database at schema version `current`. */
export function pendingMigrations(current: number, migrations: readonly string[]): number[] {
  if (current > migrations.length) throw new SchemaTooNewError(current, migrations.length);
  return Array.from({ length: migrations.length - current }, (_, i) => current + i);
}
