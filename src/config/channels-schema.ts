// The one configuration schema: the core keys (schema.ts) with `channels` assembled from the channel modules at
// the composition root. `clawgate start`, `config check`, `channels add` and the JSON Schema editors read all
// use it, so they refuse exactly the same files, and `channels.<name>` is typed by its module's settings.
import { z } from "zod";
import { type ChannelSettingsSpec, readAccounts } from "./channel-accounts.ts";
import { type ChannelSection, type Config, channelSectionSchema, configSchema } from "./schema.ts";

export const ADD_CHANNEL_HINT = "add a plugin: docs/plugins.md";

/** The editor's view of each section (its keys completed, its types shown), by the runtime schema it stands for. */
const editorViews = new WeakMap<z.ZodType, z.ZodType>();
/** The catch-all for channel keys no module provides: editors mark such a key as an error too. */
const unknownChannels = new WeakSet<z.ZodType>();

/**
 * `channels.<name>`: the keys the gateway reads (enabled, agentUrl, model, dmPolicy, accounts), checked by the
 * core schema, then every enabled account checked by the module's own settings schema, each problem under its
 * key path (`channels.telegram.accounts.ops.botToken`).
 */
export function channelSectionSchemaOf(spec: ChannelSettingsSpec) {
  const runtime = channelSectionSchema.superRefine((section, ctx) => {
    if (section.enabled === false) return;
    if (!spec.multiAccount && section.accounts !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["accounts"],
        message: `${spec.name} takes one account: move its settings up into channels.${spec.name}`,
        input: section.accounts,
      });
      return;
    }
    for (const issue of readAccounts(spec, section as ChannelSection).issues) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message, input: undefined });
    }
  });
  editorViews.set(runtime, editorView(spec));
  return runtime;
}

/** All of an account's settings optional (accounts inherit the section's), plus the gateway's own keys. */
function editorView(spec: ChannelSettingsSpec): z.ZodType {
  const settings = spec.settings as unknown as { shape?: Record<string, z.ZodType> };
  const shape = settings.shape ?? {};
  const optional = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()]));
  const gatewayKeys = channelSectionSchema.shape;
  if (!spec.multiAccount)
    return z.looseObject({ ...optional, ...gatewayKeys, accounts: z.never().optional() });
  const account = z.looseObject({
    ...optional,
    enabled: gatewayKeys.enabled,
    agentUrl: gatewayKeys.agentUrl,
    model: gatewayKeys.model,
  });
  return z.looseObject({ ...optional, ...gatewayKeys, accounts: z.record(z.string(), account).optional() });
}

/** The top-level schema with `channels` made of these modules' sections; any other channel key is refused. */
export function buildConfigSchema(modules: readonly ChannelSettingsSpec[]) {
  const known = modules.map((m) => m.name);
  const sections = Object.fromEntries(modules.map((m) => [m.name, channelSectionSchemaOf(m).optional()]));
  const unknown = z.unknown().superRefine((_v, ctx) => {
    ctx.addIssue({
      code: "custom",
      message: `no channel module provides this channel (known: ${known.join(", ")}); to add one, ${ADD_CHANNEL_HINT}`,
      input: _v,
    });
  });
  unknownChannels.add(unknown);
  return configSchema
    .extend({ channels: z.object(sections).catchall(unknown).default({}) })
    .superRefine((config, ctx) => {
      for (const spec of modules) {
        const section = config.channels[spec.name] as ChannelSection | undefined;
        if (!spec.checkWithConfig || !section || section.enabled === false) continue;
        for (const { account, settings } of readAccounts(spec, section).accounts) {
          const at = spec.multiAccount && section.accounts ? ["accounts", account] : [];
          for (const issue of spec.checkWithConfig(settings, account, config as unknown as Config)) {
            ctx.addIssue({
              code: "custom",
              path: ["channels", spec.name, ...at, ...issue.path],
              message: issue.message,
              input: undefined,
            });
          }
        }
      }
    });
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>;

/** The JSON Schema editors read: each channel section shown with its module's settings. */
export function toEditorJsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      const zodSchema = ctx.zodSchema as unknown as z.ZodType;
      if (unknownChannels.has(zodSchema)) {
        Object.assign(ctx.jsonSchema, {
          not: {},
          description: `a channel no module provides; ${ADD_CHANNEL_HINT}`,
        });
        return;
      }
      const view = editorViews.get(zodSchema);
      if (!view) return;
      for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[k];
      Object.assign(ctx.jsonSchema, z.toJSONSchema(view, { io: "input", unrepresentable: "any" }));
      delete (ctx.jsonSchema as Record<string, unknown>).$schema;
    },
  });
}
