// Group commit on PostgreSQL, for writes and, separately, for reads: single statements handed in while earlier
// ones are on their way go out together as one simple Query message — one round trip and, for writes, one
// implicit transaction and one WAL flush — and each caller gets its own result. On a 2-core machine the
// gateway's CPU went mostly to the socket writes of one query per statement (the PostgreSQL backend each one
// wakes runs on the same cores), so the number of round trips is the cost that matters (docs/benchmarks.md).
//
// - A few batches are in flight at once (BATCHES_AT_ONCE), each on a connection of the pool taken for it and
//   given back after; what arrives meanwhile is the next batch, so batches grow with the load, without a timer.
// - Values are written into the text as literals (pg's escapeLiteral; numbers and arrays quoted too, so they
//   are typed from the statement as parameters are); a named hot-path statement is PREPAREd once on each
//   connection and run with EXECUTE, so its plan is reused: planning it again each time cost PostgreSQL 0.9 ms
//   more CPU per answered message (bench:e2e, quiet machine). Behind a pooler that hands each transaction
//   another server connection (PgBouncer in transaction mode) a PREPAREd name is unknown or taken there: the
//   first such refusal turns PREPARE off for this store, and the batch is run again one statement at a time.
// - A batch that fails in the database (a constraint, a deadlock) rolled back as a whole: its statements are
//   run again one by one, so only the failing one fails. A batch whose connection broke may or may not have
//   committed: every caller gets the error, as a single query's caller would.
// - A statement whose values cannot be written as literals (bytes) runs on its own on the pool.
import pg from "pg";
import type { Row } from "../rows.ts";
import type { Sql } from "../sql.ts";

interface Write {
  q: Sql;
  text: string;
  values: unknown[];
  resolve: (r: pg.QueryResult<Row>) => void;
  reject: (err: unknown) => void;
}

/**
 * Batches in flight at once. One alone serializes every write behind the slowest batch (a lock wait, a
 * starved backend); a few keep the pipeline full. Two batches lock the same rows only when two writes touch the
 * same lane or key at once, which the queues' one-item-per-lane rule makes rare; PostgreSQL breaks such a
 * deadlock and the batch it aborts is run again one write at a time.
 */
const BATCHES_AT_ONCE = 3;
/** Enough to keep one Query message small; what is left waits for the next round trip. */
const MAX_BATCH = 256;

export class StatementBatch {
  readonly #pool: pg.Pool;
  #waiting: Write[] = [];
  readonly #committers = new Set<Promise<void>>();
  /** Statements PREPAREd on each pooled connection (a connection the pool drops takes its set with it). */
  readonly #prepared = new WeakMap<pg.PoolClient, Set<string>>();
  /** Set once the database said a PREPAREd statement was unknown or taken: a pooler is in between. */
  #literalOnly = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Runs `text` (the statement `q` in PostgreSQL's spelling) with `values` in the next batch. */
  run(q: Sql, text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (!values.every(literable)) {
      return this.#pool.query(q.name ? { name: q.name, text, values } : { text, values });
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ q, text, values, resolve, reject });
      this.#start();
    });
  }

  #start() {
    if (this.#committers.size >= BATCHES_AT_ONCE) return;
    const committer = this.#drain().finally(() => {
      this.#committers.delete(committer);
      // A write handed in after the loop's last look, while this promise was settling.
      if (this.#waiting.length > 0) this.#start();
    });
    this.#committers.add(committer);
  }

  /** Resolves once every write handed in so far has been committed (or has failed). */
  async settled(): Promise<void> {
    while (this.#committers.size > 0) await Promise.allSettled([...this.#committers]);
  }

  async #drain(): Promise<void> {
    // Let the rest of this turn's writes join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, MAX_BATCH);
      // A connection per batch, given back after it: a pool of one must still serve transactions in between.
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      try {
        await this.#commit(client, batch);
        client.release();
      } catch (err) {
        // The connection broke: the batch may have committed or not, and nobody can tell which.
        client.release(err instanceof Error ? err : true);
        for (const w of batch) w.reject(err);
      }
    }
  }

  async #commit(client: pg.PoolClient, batch: Write[]): Promise<void> {
    if (batch.length === 1) return this.#alone(client, batch[0]!);
    const prepared = this.#prepared.get(client) ?? new Set<string>();
    this.#prepared.set(client, prepared);
    const unprepared = new Map<string, string>();
    if (!this.#literalOnly)
      for (const w of batch) if (w.q.name && !prepared.has(w.q.name)) unprepared.set(w.q.name, w.text);
    let results: pg.QueryResult<Row>[];
    try {
      if (unprepared.size) {
        const prepare = [...unprepared].map(([name, text]) => `PREPARE ${sqlName(name)} AS ${text}`);
        await client.query(prepare.join(";\n"));
        for (const name of unprepared.keys()) prepared.add(name);
      }
      const text = batch.map((w) => statement(w, this.#literalOnly)).join(";\n");
      results = (await client.query(text)) as unknown as pg.QueryResult<Row>[];
    } catch (err) {
      if (!isDatabaseError(err)) throw err;
      if (POOLER_SIGNS.has((err as pg.DatabaseError).code ?? "")) this.#literalOnly = true;
      // Rolled back as a whole: one by one, so only the write that fails is refused.
      for (const w of batch) await this.#alone(client, w);
      return;
    }
    for (const [i, w] of batch.entries()) w.resolve(results[i]!);
  }

  async #alone(client: pg.PoolClient, w: Write): Promise<void> {
    try {
      const { text, values } = w;
      w.resolve(await client.query(w.q.name ? { name: w.q.name, text, values } : { text, values }));
    } catch (err) {
      if (!isDatabaseError(err)) throw err;
      w.reject(err);
    }
  }
}

/** The write as one statement with its values as literals: EXECUTE for a prepared one, the text otherwise. */
function statement(w: Write, literalOnly: boolean): string {
  if (!w.q.name || literalOnly) return withLiterals(w.text, w.values);
  const values = w.values.map(literal);
  return `EXECUTE ${sqlName(w.q.name)}${values.length ? `(${values.join(", ")})` : ""}`;
}

/**
 * `q` (in PostgreSQL's spelling) with `values` written in as literals, for a Query message of several
 * statements; undefined when a value cannot be written so (bytes, text with a NUL byte).
 */
export function inlined(text: string, values: unknown[]): string | undefined {
  return values.every(literable) ? withLiterals(text, values) : undefined;
}

function withLiterals(text: string, values: unknown[]): string {
  const literals = values.map(literal);
  return text.replace(/\$(\d+)/g, (_, n: string) => literals[Number(n) - 1]!);
}

/** invalid_sql_statement_name (EXECUTE of an unknown name), duplicate_prepared_statement (PREPARE of a taken one). */
const POOLER_SIGNS = new Set(["26000", "42P05"]);

/**
 * The name a statement is PREPAREd under on the batch connection. Not its protocol-level name: pg remembers
 * which names it parsed on a connection, and the same name prepared by SQL would collide with its own.
 */
const sqlName = (name: string) => `${name}_batch`;

function literable(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.every((e) => e === null || typeof e === "number" || safeText(e));
  return typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || safeText(v);
}

/**
 * A Query message is a NUL-terminated string: text holding a NUL byte goes as a parameter on its own, where
 * PostgreSQL refuses it with its own error, instead of cutting the batch short.
 */
const safeText = (v: unknown) => typeof v === "string" && !v.includes("\0");

/** Quoted even for numbers: an untyped literal takes its type from the statement, as a parameter does. */
function literal(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string") return pg.escapeLiteral(v);
  if (Array.isArray(v)) return pg.escapeLiteral(arrayLiteral(v));
  return pg.escapeLiteral(String(v));
}

/** The server refused a statement (it has a SQLSTATE); anything else is the connection's failure. */
function isDatabaseError(err: unknown): boolean {
  return err instanceof pg.DatabaseError;
}

/** A one-dimensional array in PostgreSQL's text form: every element quoted, NULL bare. */
function arrayLiteral(items: unknown[]): string {
  const quoted = items.map((e) =>
    e === null || e === undefined ? "NULL" : `"${String(e).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`,
  );
  return `{${quoted.join(",")}}`;
}
