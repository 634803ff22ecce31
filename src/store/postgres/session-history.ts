// A conversation turn's read on PostgreSQL (Store.sessionHistory): the session and its recent history in one
// statement, where the portable version reads them one after the other. SQLite's reads cost no round trip.
import type { Sql } from "../sql.ts";

/** $1 key, $2 how many of the newest messages: the session row with them as JSON, oldest first. */
export const SESSION_HISTORY: Sql = {
  text: `SELECT s.*, (
      SELECT COALESCE(json_agg(m ORDER BY m.id), '[]'::json) FROM (
        SELECT * FROM messages WHERE session_key = s.key AND generation = s.generation ORDER BY id DESC LIMIT $2
      ) m
    ) AS history
    FROM sessions s WHERE s.key = $1`,
};
