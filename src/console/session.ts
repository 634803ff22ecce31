// Console sessions: signing in with the admin token gives a browser a random session id (32 bytes) in an
// HttpOnly, SameSite=Strict cookie. The store keeps only the id's SHA-256 (a leaked database or log row is not a
// session, and the lookup by hash leaks nothing through timing), with a TTL, in the kv table every replica
// shares; signing out deletes it.
import { createHash, randomBytes } from "node:crypto";
import type { SessionVerifier } from "../http/admin-auth.ts";
import { SESSION_COOKIE } from "../http/admin-auth.ts";
import type { KvStore } from "../store/facets.ts";

const NS = "console-session";
export const SESSION_TTL_MS = 12 * 3600_000;
/** 32 bytes in base64url. */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (id: string) => createHash("sha256").update(id).digest("hex");

/** The name the audit log gives a session's calls: its id's first 8 characters. */
export const sessionName = (id: string) => `console:${id.slice(0, 8)}`;

export class ConsoleSessions implements SessionVerifier {
  readonly #kv: KvStore;
  constructor(kv: KvStore) {
    this.#kv = kv;
  }

  async create(): Promise<{ id: string; expiresAt: number }> {
    const id = randomBytes(32).toString("base64url");
    const expiresAt = Date.now() + SESSION_TTL_MS;
    await this.#kv.kvSet(NS, hashOf(id), JSON.stringify({ expiresAt }), SESSION_TTL_MS);
    return { id, expiresAt };
  }

  /** The live session's expiry, or undefined (wrong, expired or signed out). */
  async expiresAt(id: string): Promise<number | undefined> {
    if (!ID_SHAPE.test(id)) return undefined;
    const raw = await this.#kv.kvGet(NS, hashOf(id));
    if (!raw) return undefined;
    const { expiresAt } = JSON.parse(raw) as { expiresAt: number };
    return expiresAt > Date.now() ? expiresAt : undefined;
  }

  async verify(id: string): Promise<string | undefined> {
    return (await this.expiresAt(id)) ? sessionName(id) : undefined;
  }

  async delete(id: string): Promise<void> {
    if (ID_SHAPE.test(id)) await this.#kv.kvDelete(NS, hashOf(id));
  }
}

/** Set-Cookie for a new session; `secure` when the console is reached over https. */
export function sessionCookie(id: string, secure: boolean): string {
  const maxAge = Math.floor(SESSION_TTL_MS / 1000);
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}

/** Set-Cookie that makes the browser forget the session. */
export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? "; Secure" : ""}`;
}
