// Media files on disk under <dataDir>/media. A file's name starts with its expiry (unix seconds), so the sweep
// can delete expired files without any index, and names are strictly shaped so a token can never name a path.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

const NAME = /^(\d{9,12})-[a-f0-9]{32}\.[a-z0-9]{1,5}$/;

export class MediaFiles {
  readonly dir: string;
  #lastSweep = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  async save(bytes: Buffer, extension: string, expiresAtSec: number): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const name = `${expiresAtSec}-${randomBytes(16).toString("hex")}.${extension}`;
    await writeFile(join(this.dir, name), bytes, { mode: 0o600 });
    void this.sweep().catch(() => {});
    return name;
  }

  /** The bytes, or undefined when the name is malformed or the file is gone (swept). */
  async read(name: string): Promise<Buffer | undefined> {
    if (!NAME.test(name)) return undefined;
    try {
      return await readFile(join(this.dir, name));
    } catch {
      return undefined;
    }
  }

  /** Deletes expired files; runs at most once a minute. */
  async sweep(nowMs = Date.now(), force = false): Promise<number> {
    if (!force && nowMs - this.#lastSweep < 60_000) return 0;
    this.#lastSweep = nowMs;
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      const m = NAME.exec(name);
      if (m && Number(m[1]) * 1000 < nowMs) {
        await unlink(join(this.dir, name)).catch(() => {});
        removed++;
      }
    }
    return removed;
  }
}
