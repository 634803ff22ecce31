// The console's config pages: GET /admin/api/config (effective, secrets masked, with where each key came from)
// and the channel sections: GET /admin/api/config/channels, PUT and DELETE /admin/api/config/channels/:channel
// [?account=id]. An edit is validated as `clawgate start` reads the file (the schema the channel modules
// assembled, the environment laid over it), written atomically with the code `clawgate channels add|remove`
// uses (src/config/file-edit.ts), and applied with the gateway's reload. Secrets are write-only: a secret sent
// back as the masked text GET gave keeps the stored value.
import { dirname } from "node:path";
import { appConfigSchema, channelEnvMappers, channelModules } from "../channels/registry.ts";
import type { Env } from "../config/env.ts";
import { ConfigError } from "../config/errors.ts";
import {
  ConfigEditError,
  channelAt,
  type Doc,
  putChannel,
  readConfigDoc,
  removeChannel,
  writeConfigDoc,
} from "../config/file-edit.ts";
import { configOrigin, resolveConfig } from "../config/load.ts";
import { isSecretKey, maskConfig } from "../config/mask.ts";
import type { Config } from "../config/schema.ts";
import type { ConfigSource } from "../config/sources.ts";
import type { ReloadReport } from "../gateway/gateway.ts";
import { type AdminRouteRegistry, auditNote } from "../http/admin-routes.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError, sendJson } from "../http/respond.ts";

export interface ConfigRouteSource {
  config: Config;
  env: Env;
  reload(next: Config): Promise<ReloadReport>;
  /** Reads the configuration again as the process started (GatewayOptions.loadConfig). */
  loadConfig?: () => Promise<Config>;
}

const MASKED = /^(\*{8}|.{0,2}…\(\d+ chars, masked\))$/;

/**
 * `sent` with every string that is the masked form of the stored value at the same place put back to the stored
 * value. A masked placeholder with nothing stored behind it is a problem (it would become the secret).
 */
export function restoreSecrets(sent: unknown, stored: unknown, path: string[], problems: string[]): unknown {
  const key = path.at(-1) ?? "";
  if (typeof sent === "string") {
    if (typeof stored === "string" && sent !== stored && maskConfig(stored, key) === sent) return stored;
    if (isSecretKey(key) && MASKED.test(sent))
      problems.push(`${path.join(".")}: send the secret itself; nothing is stored behind the masked value`);
    return sent;
  }
  if (Array.isArray(sent))
    return sent.map((v, i) =>
      restoreSecrets(v, Array.isArray(stored) ? stored[i] : undefined, [...path, String(i)], problems),
    );
  if (sent && typeof sent === "object") {
    const base = stored && typeof stored === "object" ? (stored as Record<string, unknown>) : {};
    return Object.fromEntries(
      Object.entries(sent).map(([k, v]) => [k, restoreSecrets(v, base[k], [...path, k], problems)]),
    );
  }
  return sent;
}

export function registerConfigRoutes(admin: AdminRouteRegistry, gw: ConfigRouteSource) {
  let sources: Record<string, ConfigSource> = configOrigin(gw.config)?.sources ?? {};
  // One edit at a time in this process, so two saves never write over each other's read of the file.
  let editing: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = editing.then(fn);
    editing = run.catch(() => {});
    return run;
  };

  admin.add("GET", "/admin/api/config", (_req, res) => {
    sendJson(res, 200, { ok: true, config: maskConfig(gw.config), sources });
  });

  admin.add("GET", "/admin/api/config/channels", (_req, res) => {
    const file = configOrigin(gw.config)?.file;
    let channels: unknown = {};
    try {
      channels = file ? (readConfigDoc(file).channels ?? {}) : {};
    } catch (err) {
      return sendError(res, 409, (err as Error).message);
    }
    sendJson(res, 200, { ok: true, file: file ?? null, channels: maskConfig(channels) });
  });

  const edit = (method: "PUT" | "DELETE") =>
    admin.add(
      method,
      "/admin/api/config/channels/:channel",
      async (_req, res, { params, url, body }) => {
        const channel = params.channel!;
        const account = url.searchParams.get("account")?.trim() || undefined;
        const where = `channels.${channel}${account ? `.accounts.${account}` : ""}`;
        const file = configOrigin(gw.config)?.file;
        if (!file)
          return sendError(
            res,
            409,
            "this gateway was started without a config file: create clawgate.json (clawgate init) and restart it to edit channels here",
          );
        let settings: Record<string, unknown> | undefined;
        if (method === "PUT") {
          if (!Object.hasOwn(channelModules, channel))
            return sendError(res, 400, `unknown channel "${channel}"`, {
              problems: [`${where}: known channels are ${Object.keys(channelModules).join(", ")}`],
            });
          settings = readJsonObject(body);
          if (!settings)
            return sendError(res, 400, `send the settings of ${where} as a JSON object`, { problems: [] });
        }
        await serially(async () => {
          let doc: Doc;
          const problems: string[] = [];
          try {
            doc = readConfigDoc(file);
            if (settings) {
              const restored = restoreSecrets(settings, channelAt(doc, channel, account), [where], problems);
              putChannel(doc, channel, account, restored as Record<string, unknown>);
            } else removeChannel(doc, channel, account);
          } catch (err) {
            if (!(err instanceof ConfigEditError)) throw err;
            return sendError(res, err.notFound ? 404 : 400, err.message, { problems: err.problems });
          }
          if (problems.length === 0) problems.push(...startProblems(doc, gw.env, file));
          if (problems.length > 0)
            return sendError(res, 400, `${where} was not saved: ${problems[0]}`, { problems });
          try {
            await writeConfigDoc(file, doc);
          } catch (err) {
            if (!(err instanceof ConfigEditError)) throw err;
            return sendError(res, 400, err.message, { problems: err.problems });
          }
          auditNote(res, { summary: `${where} ${method === "PUT" ? "saved" : "removed"}` });
          let next: Config;
          try {
            next = gw.loadConfig ? await gw.loadConfig() : configOrigin(gw.config)!.reread();
          } catch (err) {
            const message = err instanceof ConfigError ? err.message : (err as Error).message;
            return sendError(res, 400, `saved to ${file}, but not applied: ${message}`);
          }
          const report = await gw.reload(next);
          sources = configOrigin(next)?.sources ?? sources;
          sendJson(res, 200, { ok: true, ...report });
        });
      },
      { bodyLimitBytes: 64 * 1024 },
    );
  edit("PUT");
  edit("DELETE");
}

/** What `clawgate start` would say about the file: the assembled schema, the environment laid over it. */
function startProblems(doc: Doc, env: Env, file: string): string[] {
  try {
    resolveConfig(structuredClone(doc), env, {
      channelEnv: channelEnvMappers(),
      schema: appConfigSchema(),
      cwd: dirname(file),
    });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}
