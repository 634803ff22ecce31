// Publishes media for platforms that fetch it by URL (LINE, WhatsApp by link, MMS): stores the bytes under
// the store (src/media/store.ts, so every replica can serve it), signs a link that expires, and serves it on the gateway's listeners. Settings come from
// `media.*` and `server.publicBaseUrl` (OPENCLAW_CONNECTOR_MEDIA_* and _PUBLIC_BASE_URL); see docs/media.md.
import type { Logger } from "pino";
import type { MediaItem, WebhookRoute } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import type { DeliveryAddress } from "../core/event.ts";
import { MediaTooLargeError } from "../core/too-large.ts";
import type { Store } from "../store/types.ts";
import { isImage, normalizeMime } from "./content-type.ts";
import { fitImage } from "./image.ts";
import { mediaRoute } from "./route.ts";
import { signMediaToken } from "./signer.ts";
import { mediaSigningKey } from "./signing-key.ts";
import { MediaStore } from "./store.ts";

export interface MediaSettings {
  /** Public origin (and optional path prefix) the platforms reach the gateway at; no trailing slash. */
  publicBaseUrl?: string;
  path: string;
  ttlSec: number;
  maxBytes: number;
}

export function mediaSettings(config: Config): MediaSettings {
  return {
    publicBaseUrl: config.server.publicBaseUrl?.replace(/\/+$/, ""),
    path: config.media.path,
    ttlSec: config.media.ttlSec,
    maxBytes: Math.floor(config.media.maxMb * 1024 * 1024),
  };
}

export interface PublishedMedia {
  url: string;
  mime: string;
  bytes: number;
  expiresAt: number;
}

export class MediaService {
  readonly settings: MediaSettings;
  readonly files: MediaStore;
  readonly #key: Buffer;
  readonly #log: Logger;

  constructor(settings: MediaSettings, key: Buffer, log: Logger, files: MediaStore) {
    this.settings = settings;
    this.files = files;
    this.#key = key;
    this.#log = log;
  }

  static async open(o: { config: Config; env: Env; store: Store; log: Logger }): Promise<MediaService> {
    const adminToken = o.env.OPENCLAW_CONNECTOR_ADMIN_TOKEN?.trim() || o.config.adminToken;
    const key = await mediaSigningKey(o.store, adminToken);
    return new MediaService(mediaSettings(o.config), key, o.log, new MediaStore(o.store));
  }

  /** True when a public base URL is configured, so links can be handed to a platform. */
  get enabled(): boolean {
    return this.settings.publicBaseUrl !== undefined;
  }

  /** ChannelContext.publishMedia: undefined when no public base URL is configured. */
  async publish(item: MediaItem, address: DeliveryAddress): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const bytes = Buffer.from(item.dataBase64, "base64");
    const conversation = `${address.channel}:${address.account}:${address.conversationId}`;
    return (await this.publishBytes(bytes, item.mime, conversation, item.filename)).url;
  }

  /** Stores and signs; images over the size limit are scaled down, anything else over it is refused. */
  async publishBytes(
    bytes: Buffer,
    mime: string,
    conversation: string,
    name?: string,
  ): Promise<PublishedMedia> {
    const base = this.settings.publicBaseUrl;
    if (!base) {
      throw new Error(
        "media links need a public HTTPS base URL: set OPENCLAW_CONNECTOR_PUBLIC_BASE_URL (server.publicBaseUrl)",
      );
    }
    let type = normalizeMime(mime);
    let data = bytes;
    if (data.length > this.settings.maxBytes) {
      if (!isImage(type)) {
        throw new MediaTooLargeError(
          `${name ?? "the file"} is ${data.length} bytes, over the ${this.settings.maxBytes}-byte media limit (OPENCLAW_CONNECTOR_MEDIA_MAX_MB)`,
        );
      }
      const fitted = await fitImage(data, type, { maxBytes: this.settings.maxBytes });
      this.#log.info(
        { from: data.length, to: fitted.bytes.length },
        "image scaled to fit the media size limit",
      );
      data = fitted.bytes;
      type = fitted.mime;
    }
    const expiresAt = Math.floor(Date.now() / 1000) + this.settings.ttlSec;
    const file = await this.files.save(data, {
      mime: type,
      owner: conversation,
      name,
      expiresAtSec: expiresAt,
    });
    const token = signMediaToken(this.#key, { file, conversation, expiresAt, mime: type, name });
    return { url: `${base}${this.settings.path}/${token}`, mime: type, bytes: data.length, expiresAt };
  }

  /** A signed link to a file already in the media store (an inbound picture sent to the agent by URL). */
  linkTo(
    file: { id: string; mime: string; owner: string; name?: string },
    ttlSec: number,
  ): string | undefined {
    const base = this.settings.publicBaseUrl;
    if (!base) return undefined;
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSec;
    const token = signMediaToken(this.#key, {
      file: file.id,
      conversation: file.owner,
      expiresAt,
      mime: file.mime,
      ...(file.name ? { name: file.name } : {}),
    });
    return `${base}${this.settings.path}/${token}`;
  }

  routes(): WebhookRoute[] {
    return [mediaRoute(this.settings.path, this.#key, this.files)];
  }
}
