// docs/openapi.json, generated from the web chat's route definitions and the `doc` next to each (api.ts, ws.ts),
// so the description cannot drift from the routes: `npm run openapi` writes it, a test checks it is current.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { inboundMediaSchema } from "../../config/media.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import type { WebchatAccess } from "./api.ts";
import { webchatRoutes } from "./api.ts";
import { LiveHub } from "./live-hub.ts";
import { WsSessions } from "./ws.ts";

const ROOT = new URL("../../../", import.meta.url);

/** The routes as the channel mounts them, built with inert stand-ins: nothing is served or stored. */
export function documentedRoutes(): WebhookRoute[] {
  const ctx = {
    config: { media: { inbound: inboundMediaSchema.parse({}) } },
    store: {},
  } as unknown as ChannelContext;
  const access = { devices: {}, shared: {}, sockets: new WsSessions() } as unknown as WebchatAccess;
  return webchatRoutes(ctx, new LiveHub(), undefined, { uploads: {} as never, answers: {} as never }, access);
}

type Json = Record<string, unknown>;

export function openApiDocument(routes: WebhookRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  const api = routes.filter((r) => r.path.startsWith("/api/"));
  for (const r of [...api].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const doc = r.doc ?? { summary: `${r.method} ${r.path}` };
    const params = [
      ...[...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema:
          m[1] === "id"
            ? { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" }
            : { type: "integer", minimum: 1 },
      })),
      ...Object.entries(doc.query ?? {}).map(([name, description]) => ({
        name,
        in: "query",
        required: false,
        description,
        schema: { type: "string" },
      })),
    ];
    const status = doc.response?.status ?? 200;
    const type = doc.response?.type ?? "application/json";
    const op: Json = {
      summary: doc.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(doc.request !== undefined
        ? { requestBody: { required: true, content: { "application/json": { example: doc.request } } } }
        : {}),
      responses: {
        [String(status)]: {
          description: status === 101 ? "Switching Protocols: the WebSocket is open" : "success",
          ...(status === 101
            ? {}
            : {
                content: {
                  [type]: doc.response?.example !== undefined ? { example: doc.response.example } : {},
                },
              }),
        },
        "401": { description: "no or a wrong token (a revoked or expired device token says so)" },
        "403": { description: "a page of another origin, or a device without the chat scope" },
        ...(params.some((p) => p.in === "path")
          ? { "404": { description: "no such thread for this caller" } }
          : {}),
        "429": { description: "too many wrong tokens from this address; wait Retry-After seconds" },
      },
    };
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: op };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "clawgate web chat API",
      version,
      description:
        "Threads, messages, live events (SSE and WebSocket) of the built-in web chat. Loopback callers need no token; others send Authorization: Bearer <webchat.token> (alias CLAWCHATS_AUTH_TOKEN) or a paired device's chat token <deviceId>.<token>. See docs/webchat-api.md.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }, {}],
    paths,
  };
}

export function renderOpenApi(): string {
  const pkg = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { version: string };
  return `${JSON.stringify(openApiDocument(documentedRoutes(), pkg.version), null, 2)}\n`;
}

export const OPENAPI_PATH = fileURLToPath(new URL("docs/openapi.json", ROOT));

if (import.meta.main) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`wrote ${OPENAPI_PATH}`);
}
