// A minimal channel for trust tests: POST /<name>/in {senderId, text, kind?} ingests a message like a webhook
// would; replies are recorded in `sent`. Its own allowlist (`allowFrom` in its config section) is the
// adapter's isTrusted, so the DM pairing gate is what admits anyone else. `attachments` in the body are
// carried as they are (a picture-only message), `replyTo` is the platform id of a message it answers (a sent
// message's id is its 1-based position in `sent`); `botName` in the config section is the adapter's bot name.
// With `files: {baseUrl, token}` in its section the channel downloads attachments from that file API
// (test/fakes/file-host.ts: platformId is the file id) and sends pictures (capabilities.media), as a platform
// with a file API does.

import { z } from "zod";
import { downloadFromPlatform, hostOf } from "../../src/channels/sdk/download.ts";
import {
  CHANNEL_API_VERSION,
  type ChannelAdapter,
  type ChannelModule,
  type OutboundMessage,
} from "../../src/channels/types.ts";
import type { Config } from "../../src/config/schema.ts";
import { lexCommand } from "../../src/core/command-lexer.ts";
import type { Attachment, DeliveryAddress } from "../../src/core/event.ts";
import { sendJson } from "../../src/http/respond.ts";
import { fetchPolicyFromConfig } from "../../src/security/url-guard.ts";

export interface SentRecord {
  to: DeliveryAddress;
  message: OutboundMessage;
}

export function dmChannelModule(name: string, sent: SentRecord[]): ChannelModule {
  return {
    name,
    apiVersion: CHANNEL_API_VERSION,
    settings: z.looseObject({
      allowFrom: z.array(z.string()).default([]),
      botName: z.string().optional(),
      files: z.object({ baseUrl: z.string(), token: z.string() }).optional(),
    }),
    multiAccount: false,
    create(
      section: { allowFrom: string[]; botName?: string; files?: { baseUrl: string; token: string } },
      ctx,
    ) {
      const allowFrom = section.allowFrom;
      let seq = 0;
      const adapter: ChannelAdapter = {
        ...(typeof section.botName === "string" ? { botName: section.botName } : {}),
        channel: name,
        account: "default",
        capabilities: {
          edit: false,
          livePreview: false,
          answersPresses: false,
          threads: false,
          media: section.files !== undefined,
          downloads: section.files !== undefined,
          buttons: false,
          maxTextLength: 4000,
          minEditIntervalMs: 0,
        },
        ...(section.files ? { fetchAttachment: downloadsFrom(section.files, ctx.config) } : {}),
        routes: () => [
          {
            method: "POST",
            path: `/${name}/in`,
            handler: async (_req, res, { body }) => {
              const j = JSON.parse(body.toString("utf8")) as {
                senderId: string;
                text: string;
                kind?: "dm" | "group";
                attachments?: Attachment[];
                replyTo?: string;
              };
              const lexed = lexCommand(j.text);
              const result = await ctx.ingest({
                id: `${name}:default:${++seq}:${Date.now()}`,
                channel: name,
                account: "default",
                conversation: {
                  id: j.kind === "group" ? "group-1" : `dm-${j.senderId}`,
                  kind: j.kind ?? "dm",
                },
                sender: { id: j.senderId, name: `user ${j.senderId}` },
                text: j.text,
                command: lexed.kind === "command" ? lexed.command : undefined,
                attachments: j.attachments ?? [],
                ...(j.replyTo ? { replyTo: j.replyTo } : {}),
                addressed: true,
                receivedAt: Date.now(),
              });
              sendJson(res, 200, { ok: true, result });
            },
          },
        ],
        async send(to, message) {
          sent.push({ to, message });
          return { messageId: String(sent.length) };
        },
        isTrusted: (event) => allowFrom.includes(event.sender.id),
        health: () => ({ status: "running" }),
      };
      return adapter;
    },
  };
}

function downloadsFrom(
  files: { baseUrl: string; token: string },
  config: Config,
): ChannelAdapter["fetchAttachment"] {
  return (attachment, limits) =>
    downloadFromPlatform({
      url: `${files.baseUrl}/files/${attachment.platformId}`,
      headers: { authorization: `Bearer ${files.token}` },
      ownHosts: [hostOf(files.baseUrl)],
      policy: fetchPolicyFromConfig(config),
      limits,
      what: "the file",
    });
}
