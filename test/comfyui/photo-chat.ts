// A chat channel with pictures, for the ComfyUI photo tests until a real channel's download is on this branch:
// POST /photochat/in {senderId, text, messageId, replyTo?, photos?: [{id, size?}]} ingests a message whose
// photos sit on a file server the test runs (the channel's "platform"); fetchAttachment downloads them the
// way every channel does (src/channels/sdk/download.ts, size limit included). Sent messages are recorded,
// each with a platform message id ("bot-1", …) a later message can reply to.
import { createServer, type Server } from "node:http";
import { z } from "zod";
import { downloadFromPlatform, hostOf } from "../../src/channels/sdk/download.ts";
import { CHANNEL_API_VERSION, type ChannelModule, type OutboundMessage } from "../../src/channels/types.ts";
import { lexCommand } from "../../src/core/command-lexer.ts";
import type { DeliveryAddress } from "../../src/core/event.ts";
import { sendJson } from "../../src/http/respond.ts";
import { fetchPolicyFromConfig } from "../../src/security/url-guard.ts";
import { closeServer, listenLocal } from "../fakes/shared.ts";

export interface Sent {
  to: DeliveryAddress;
  message: OutboundMessage;
  messageId: string;
}

/** The platform's file host: GET /files/<id> serves the bytes with their Content-Length. */
export class PhotoHost {
  readonly files = new Map<string, { bytes: Buffer; mime: string }>();
  readonly downloads: string[] = [];
  readonly #server: Server;
  url = "";

  constructor() {
    this.#server = createServer((req, res) => {
      const id = decodeURIComponent((req.url ?? "").replace(/^\/files\//, ""));
      const f = this.files.get(id);
      this.downloads.push(id);
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": f.mime, "content-length": f.bytes.length });
      res.end(f.bytes);
    });
  }

  static async start(): Promise<PhotoHost> {
    const h = new PhotoHost();
    h.url = await listenLocal(h.#server, 0);
    return h;
  }

  close() {
    return closeServer(this.#server);
  }
}

export function photoChatModule(host: () => PhotoHost, sent: Sent[]): ChannelModule {
  return {
    name: "photochat",
    apiVersion: CHANNEL_API_VERSION,
    settings: z.looseObject({}),
    multiAccount: false,
    create(_section, ctx) {
      return {
        channel: "photochat",
        account: "default",
        capabilities: {
          edit: false,
          livePreview: false,
          answersPresses: false,
          threads: false,
          media: true,
          downloads: true,
          buttons: false,
          maxTextLength: 4000,
          minEditIntervalMs: 0,
        },
        routes: () => [
          {
            method: "POST",
            path: "/photochat/in",
            handler: async (_req, res, { body }) => {
              const j = JSON.parse(body.toString("utf8")) as {
                senderId: string;
                text: string;
                messageId: string;
                replyTo?: string;
                photos?: { id: string; size?: number; kind?: "image" | "file"; mime?: string }[];
              };
              const lexed = lexCommand(j.text);
              const result = await ctx.ingest({
                id: `photochat:default:${j.messageId}`,
                channel: "photochat",
                account: "default",
                conversation: { id: `dm-${j.senderId}`, kind: "dm" },
                sender: { id: j.senderId, name: j.senderId },
                text: j.text,
                command: lexed.kind === "command" ? lexed.command : undefined,
                attachments: (j.photos ?? []).map((p) => ({
                  kind: p.kind ?? "image",
                  mime: p.mime ?? "image/jpeg",
                  platformId: p.id,
                  ...(p.size !== undefined ? { size: p.size } : {}),
                })),
                ...(j.replyTo ? { replyTo: j.replyTo } : {}),
                addressed: true,
                receivedAt: Date.now(),
              });
              sendJson(res, 200, { ok: true, result });
            },
          },
        ],
        async send(to, message) {
          const messageId = `bot-${sent.length + 1}`;
          sent.push({ to, message, messageId });
          return { messageId };
        },
        async fetchAttachment(attachment, limits) {
          const base = host().url;
          return downloadFromPlatform({
            url: `${base}/files/${encodeURIComponent(attachment.platformId ?? "")}`,
            ownHosts: [hostOf(base)],
            policy: fetchPolicyFromConfig(ctx.config),
            limits,
            what: "the photo",
          });
        },
        isTrusted: () => true,
        health: () => ({ status: "running" }),
      };
    },
  };
}
