// Media bytes kept in the store (the `media` table), so every replica reads and serves every file: a photo one
// replica downloaded, an image another publishes, history images. Ids are random and strictly shaped, so a
// token or a history line can never name anything else; rows expire and retention deletes them.
import { randomBytes } from "node:crypto";
import type { Store, StoredMedia } from "../store/types.ts";

const ID = /^m_[a-f0-9]{32}$/;

export type MediaRows = Pick<Store, "mediaPut" | "mediaGet" | "mediaDelete">;

export interface SaveMedia {
  mime: string;
  /** The conversation (or thread) the file belongs to. */
  owner: string;
  name?: string;
  /** Unix seconds. */
  expiresAtSec: number;
}

export class MediaStore {
  readonly #rows: MediaRows;

  constructor(rows: MediaRows) {
    this.#rows = rows;
  }

  static isId(id: string): boolean {
    return ID.test(id);
  }

  async save(bytes: Buffer, o: SaveMedia): Promise<string> {
    const id = `m_${randomBytes(16).toString("hex")}`;
    await this.#rows.mediaPut({
      id,
      owner: o.owner,
      mime: o.mime,
      ...(o.name ? { name: o.name.slice(0, 200) } : {}),
      bytes,
      expiresAt: o.expiresAtSec * 1000,
    });
    return id;
  }

  /** The file, or undefined when the id is malformed or the file expired. */
  async read(id: string): Promise<StoredMedia | undefined> {
    if (!ID.test(id)) return undefined;
    return this.#rows.mediaGet(id);
  }

  async delete(id: string): Promise<void> {
    if (ID.test(id)) await this.#rows.mediaDelete(id);
  }
}
