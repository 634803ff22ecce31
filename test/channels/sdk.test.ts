// The channel SDK as a plugin author meets it: a module declares its settings, and the configuration schema
// assembled from the modules refuses, inherits and types them before create() ever runs.
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, test } from "node:test";
import { z } from "zod";
import {
  Allowlist,
  answer,
  apiVersion,
  CHANNEL_API_VERSION,
  capabilities,
  channelAccounts,
  defineChannel,
  HealthTracker,
  jsonWebhookRoute,
  refuse,
} from "../../src/channels/sdk/index.ts";
import type { ChannelAdapter } from "../../src/channels/types.ts";
import { buildConfigSchema } from "../../src/config/channels-schema.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { resolveConfig } from "../../src/config/load.ts";
import type { InboundEvent } from "../../src/core/event.ts";

const created: { account: string; settings: unknown }[] = [];
const example = defineChannel({
  name: "example",
  apiVersion: CHANNEL_API_VERSION,
  settings: z.object({
    token: z.string({ error: "required: the bot token" }).min(4),
    allowedUsers: z.array(z.string()).default([]),
    path: z.string().default("/example"),
  }),
  multiAccount: true,
  aliases: { botToken: "token" },
  accountId: { pattern: /^[a-z]+$/, hint: "lower-case letters only" },
  checkWithConfig: (_s, account, config) =>
    account === "needsurl" && !config.server.publicBaseUrl
      ? [{ path: ["path"], message: "needs server.publicBaseUrl" }]
      : [],
  create: (settings, _ctx, account) => {
    created.push({ account, settings });
    return { channel: "example", account } as unknown as ChannelAdapter;
  },
});
const single = defineChannel({
  name: "single",
  apiVersion,
  settings: z.object({ secret: z.string() }),
  multiAccount: false,
  create: () => ({}) as ChannelAdapter,
});
const schema = buildConfigSchema([example, single]);
const problems = (channels: unknown, extra: Record<string, unknown> = {}) => {
  try {
    resolveConfig({ ...extra, channels }, {}, { schema });
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
};

describe("a module's settings in the assembled configuration schema", () => {
  test("accounts inherit the section's keys; each problem names its account's key path", () => {
    const found = problems({ example: { token: "abcd", accounts: { ops: {}, dev: { token: "xy" } } } });
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(
      found[0]!,
      /^channels\.example\.accounts\.dev\.token: .*\(found a secret of 2 characters, not shown\)$/,
    );
    assert.deepEqual(problems({ example: { accounts: { ops: { botToken: "abcd" } } } }), [], "alias");
  });

  test("a disabled section or account is not checked; a bad account id is refused with the channel's hint", () => {
    assert.deepEqual(problems({ example: { enabled: false } }), []);
    assert.deepEqual(problems({ example: { accounts: { ops: { enabled: false } } } }), []);
    assert.match(
      problems({ example: { token: "abcd", accounts: { "Ops.1": {} } } }).join("\n"),
      /lower-case/,
    );
  });

  test("a rule over the whole configuration runs in the same schema", () => {
    const section = { example: { accounts: { needsurl: { token: "abcd" } } } };
    assert.match(
      problems(section).join(),
      /channels\.example\.accounts\.needsurl\.path: needs server\.publicBaseUrl/,
    );
    assert.deepEqual(problems(section, { server: { publicBaseUrl: "https://x.example" } }), []);
  });

  test("a single-account channel refuses accounts; an unknown channel names the known ones", () => {
    assert.match(
      problems({ single: { secret: "s", accounts: { a: {} } } }).join(),
      /single takes one account/,
    );
    const unknown = problems({ qq: { appId: "1" } }).join();
    assert.match(unknown, /channels\.qq: no channel module provides this channel \(known: example, single\)/);
    assert.match(unknown, /docs\/plugins\.md/);
  });

  test("create() receives settings the schema accepted, defaults filled in, once per enabled account", () => {
    created.length = 0;
    const section = { token: "abcd", accounts: { ops: {}, dev: { path: "/dev" }, off: { enabled: false } } };
    for (const { account, settings } of channelAccounts(example, section))
      example.create(settings, {} as never, account);
    assert.deepEqual(created, [
      { account: "ops", settings: { token: "abcd", allowedUsers: [], path: "/example" } },
      { account: "dev", settings: { token: "abcd", allowedUsers: [], path: "/dev" } },
    ]);
  });
});

describe("building blocks", () => {
  const event = (sender: string, conversation: string) =>
    ({ sender: { id: sender }, conversation: { id: conversation, kind: "group" } }) as InboundEvent;

  test("Allowlist: a listed sender or conversation, compared in their canonical spelling", () => {
    const list = new Allowlist(["+1 (555) 0100"], ["G1"], (id) => id.replace(/[\s()+-]/g, ""));
    assert.equal(list.has(event("15550100", "x")), true);
    assert.equal(list.has(event("u2", "G1")), true);
    assert.equal(list.has(event("u2", "G2")), false);
    assert.equal(list.hasSender("+15550100"), true);
    assert.equal(list.conversations, 1);
  });

  test("capabilities: what a channel does not state is off", () => {
    assert.deepEqual(capabilities({ maxTextLength: 100, buttons: true }), {
      edit: false,
      livePreview: false,
      answersPresses: false,
      threads: false,
      media: false,
      downloads: false,
      buttons: true,
      minEditIntervalMs: 0,
      maxTextLength: 100,
    });
  });
});

describe("the JSON webhook route: verify → parse → normalize → ingest → ack", () => {
  const SECRET = "s3cret";
  function setup() {
    const ingested: string[] = [];
    const log: string[] = [];
    const health = new HealthTracker();
    const route = jsonWebhookRoute(
      {
        path: "/hook",
        verify: (req) =>
          req.headers["x-sig"] === SECRET
            ? { ok: true }
            : { ok: false, status: 401, reason: "bad signature" },
        normalize: (payload) => {
          if (payload.type === "challenge") return answer((res) => res.writeHead(200).end("pong"));
          if (!Array.isArray(payload.ids)) return refuse("body must be {ids: [...]}");
          return payload.ids.map((id) => ({ id: `ex:default:${id}` }) as InboundEvent);
        },
        ack: (res) => {
          log.push(`ack after ${ingested.length} ingested`);
          res.writeHead(200).end("ok");
        },
      },
      {
        ingest: async (e) => {
          ingested.push(e.id);
          return "accepted";
        },
      },
      health,
    );
    const call = async (headers: Record<string, string>, body: string) => {
      let status = 0;
      let text = "";
      const res = {
        writeHead(s: number) {
          status = s;
          return res;
        },
        end(t?: string) {
          text = t ?? "";
          return res;
        },
      } as unknown as ServerResponse;
      await route.handler({ headers } as IncomingMessage, res, {
        body: Buffer.from(body),
        params: {},
        url: new URL("http://x/hook"),
      } as never);
      return { status, text };
    };
    return { ingested, log, health, call };
  }

  test("a webhook of 1,000 events is ingested in order, letting other work run before it is acknowledged", async () => {
    const { ingested, log, call } = setup();
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const answered = call({ "x-sig": SECRET }, JSON.stringify({ ids }));
    // Queued after the webhook began: it runs before the ack only if the ingest yields to the event loop.
    setImmediate(() => log.push("other work"));
    assert.equal((await answered).status, 200);
    assert.deepEqual(
      ingested,
      ids.map((id) => `ex:default:${id}`),
    );
    assert.deepEqual(log, ["other work", "ack after 1000 ingested"]);
  });

  test("a bad signature is refused before anything is parsed or ingested", async () => {
    const { ingested, call } = setup();
    const r = await call({ "x-sig": "wrong" }, "not even json");
    assert.equal(r.status, 401);
    assert.match(r.text, /bad signature/);
    assert.deepEqual(ingested, []);
  });

  test("a body that is not a JSON object, or that the channel cannot read, is a 400 with the reason", async () => {
    const { ingested, call } = setup();
    for (const body of ["[1]", "{", "5"]) {
      const r = await call({ "x-sig": SECRET }, body);
      assert.equal(r.status, 400, body);
      assert.match(r.text, /not a JSON object/);
    }
    const r = await call({ "x-sig": SECRET }, "{}");
    assert.equal(r.status, 400);
    assert.match(r.text, /body must be \{ids/);
    assert.deepEqual(ingested, []);
  });

  test("every event is ingested before the platform hears 200; a channel's own answer is sent as is", async () => {
    const { ingested, log, health, call } = setup();
    const r = await call({ "x-sig": SECRET }, JSON.stringify({ ids: ["a", "b"] }));
    assert.equal(r.status, 200);
    assert.deepEqual(ingested, ["ex:default:a", "ex:default:b"]);
    assert.deepEqual(log, ["ack after 2 ingested"]);
    assert.ok(health.snapshot().lastInboundAt);
    // A payload that merely has a `refuse` key is still a payload, not an outcome.
    const lookalike = await call({ "x-sig": SECRET }, JSON.stringify({ refuse: "x", ids: [] }));
    assert.equal(lookalike.status, 200);
    assert.deepEqual(await call({ "x-sig": SECRET }, JSON.stringify({ type: "challenge" })), {
      status: 200,
      text: "pong",
    });
  });
});

test("a declared feature must be there to call: edits, live previews and in-place press answers", async () => {
  const { channelModules } = await import("../../src/channels/registry.ts");
  const { ChannelSet } = await import("../../src/gateway/channel-set.ts");
  const { Router } = await import("../../src/http/router.ts");
  const { createLogger } = await import("../../src/log.ts");
  for (const [capability, method] of [
    ["edit", "edit"],
    ["livePreview", "preview"],
    ["answersPresses", "answerAction"],
    ["downloads", "fetchAttachment"],
  ] as const) {
    channelModules.declared = defineChannel({
      name: "declared",
      apiVersion,
      settings: z.looseObject({}),
      multiAccount: false,
      create: () =>
        ({
          channel: "declared",
          account: "default",
          capabilities: capabilities({ [capability]: true, maxTextLength: 100 }),
        }) as ChannelAdapter,
    });
    try {
      const config = resolveConfig({ webchat: { enabled: false }, channels: { declared: {} } }, {});
      assert.throws(
        () =>
          new ChannelSet({
            router: new Router(),
            ctx: {} as never,
            log: createLogger("silent"),
            config,
            mediaRoutes: () => [],
          }),
        new RegExp(`declared:default declares capabilities\\.${capability} but has no ${method}\\(\\)`),
      );
    } finally {
      delete channelModules.declared;
    }
  }
});
