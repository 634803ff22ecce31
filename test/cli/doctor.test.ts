// `clawgate doctor` run as a user runs it, against fake platforms: every check green first, then one thing broken
// at a time, each with the explanation and the fix the operator reads, and the exit code scripts rely on.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { openStore } from "../../src/store/open.ts";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.ts";
import { DC_BOT } from "../channels/discord-helpers.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { FakeDiscord, fakeDiscordToken } from "../fakes/discord.ts";
import { FakeLine } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeSlack } from "../fakes/slack.ts";
import { FakeTelegram } from "../fakes/telegram.ts";
import { FakeTwilio } from "../fakes/twilio.ts";
import { FakeWechat } from "../fakes/wechat.ts";
import { FakeWhatsapp } from "../fakes/whatsapp.ts";
import { clawgate } from "../helpers/cli.ts";
import { ADMIN_URL, createTestDatabase } from "../helpers/postgres.ts";
import { UNREACHABLE_AGENT_URL } from "../helpers/unreachable.ts";

interface Check {
  id: string;
  title: string;
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  fix?: string;
}

const PUBLIC = "https://bot.example.com";
const TG = { token: "123456:doctor-test-token", id: 123456, username: "doctor_bot" };
const TG_HOOK = `${PUBLIC}/telegram/default/webhook`;

let tg: FakeTelegram;
let slack: FakeSlack;
let line: FakeLine;
let wa: FakeWhatsapp;
let twilio: FakeTwilio;
let discord: FakeDiscord;
let wechat: FakeWechat;
let agent: FakeAgent;
const dirs: string[] = [];

before(async () => {
  [tg, slack, line, wa, twilio, discord, wechat, agent] = await Promise.all([
    new FakeTelegram([TG]).start(),
    new FakeSlack().start(),
    new FakeLine().start(),
    new FakeWhatsapp().start(),
    new FakeTwilio().start(),
    new FakeDiscord(DC_BOT).start(),
    new FakeWechat().start(),
    new FakeAgent({ models: ["fake-model"] }).start(),
  ]);
  await setTelegramWebhook(TG_HOOK);
  line.webhook = { endpoint: `${PUBLIC}/line/webhook`, active: true };
});

after(async () => {
  await Promise.all([tg, slack, line, wa, twilio, discord, wechat, agent].map((f) => f?.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Registers a webhook through the Bot API itself, as `channels telegram set-webhook` would. */
async function setTelegramWebhook(url: string) {
  const res = await fetch(`${tg.url}/bot${TG.token}/setWebhook`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url, secret_token: "doctor-secret" }),
  });
  assert.equal(res.status, 200);
}

type Section = Record<string, unknown>;
type TestConfig = {
  database?: Section;
  comfyui?: Section;
  plugins?: string[];
  agentUrl: string;
  model: string;
  dataDir: string;
  server: Section;
  channels: Record<
    "telegram" | "slack" | "line" | "whatsapp" | "sms" | "discord" | "wechat" | "kakao",
    Section
  > &
    Record<string, Section>;
};

/** A config with every channel pointed at its fake; `change` edits it before it is written. */
function baseConfig(): TestConfig {
  return {
    agentUrl: agent.url,
    model: "fake-model",
    dataDir: "./data",
    server: { publicBaseUrl: PUBLIC },
    channels: {
      telegram: { botToken: TG.token, apiBase: tg.url, mode: "webhook", webhookSecret: "doctor-secret" },
      slack: { botToken: slack.token, signingSecret: "slack-signing-secret", apiBase: `${slack.url}/api` },
      line: { channelSecret: "line-secret", channelAccessToken: line.token, apiBase: line.url },
      whatsapp: {
        accessToken: wa.token,
        verifyToken: "verify",
        appSecret: "app-secret",
        phoneNumberId: wa.phoneNumberId,
        apiBase: wa.url,
        apiVersion: wa.version,
      },
      sms: {
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: "+15550001111",
        apiBase: twilio.url,
      },
      discord: { token: DC_BOT.token, apiBase: discord.url },
      wechat: {
        token: "wechat-token",
        appId: wechat.appId,
        appSecret: wechat.appSecret,
        apiBase: wechat.url,
      },
      kakao: {},
    },
  };
}

async function doctor(change: (c: TestConfig) => void = () => {}, ...args: string[]) {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-doctor-"));
  dirs.push(dir);
  const config = baseConfig();
  change(config);
  await writeFile(join(dir, "clawgate.json"), JSON.stringify(config));
  return { dir, ...(await clawgate(dir, "doctor", ...args)) };
}

async function doctorJson(change?: (c: TestConfig) => void) {
  const r = await doctor(change, "--json");
  const checks = (JSON.parse(r.stdout) as { checks: Check[] }).checks;
  const find = (id: string) => {
    const c = checks.find((x) => x.id === id);
    assert.ok(c, `no check ${id} in ${checks.map((x) => x.id).join(", ")}`);
    return c;
  };
  return { ...r, checks, find };
}

test("everything configured right: every check passes and doctor exits 0", async () => {
  const r = await doctorJson();
  const notOk = r.checks.filter((c) => c.status !== "ok");
  assert.deepEqual(notOk, []);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.checks.map((c) => c.id),
    [
      "config",
      "node.version",
      "datadir.writable",
      "datadir.space",
      "store",
      "agent",
      "agent.stream",
      "agent.vision",
      "agent.tools",
      "slack.public-url",
      "slack.token",
      "slack.scopes",
      "line.public-url",
      "line.token",
      "line.webhook",
      "whatsapp.public-url",
      "whatsapp.phone-number",
      "wechat.default.public-url",
      "wechat.default.access-token",
      "kakao.default.public-url",
      "kakao.default.callback-hosts",
      "sms.default.public-url",
      "sms.default.account",
      "telegram.default.public-url",
      "telegram.default.token",
      "telegram.default.webhook",
      "discord.default.token",
      "discord.default.intents",
      "clock.skew",
    ],
  );
  assert.equal(
    r.find("agent").detail,
    "model fake-model answered (used by webchat:default, slack:default, line:default, whatsapp:default, wechat:default, kakao:default, sms:default, telegram:default, discord:default)",
  );
  assert.equal(r.find("agent.stream").detail.startsWith("server-sent events arrived"), true);
  assert.equal(r.find("agent.vision").detail, "fake-model accepts pictures");
  assert.equal(r.find("agent.tools").detail, "fake-model takes tool definitions");
  assert.equal(r.find("discord.default.token").detail, `${DC_BOT.username} (id ${DC_BOT.id})`);
  assert.equal(
    r.find("wechat.default.access-token").detail,
    `an access token was issued for ${wechat.appId}`,
  );
  assert.equal(r.find("telegram.default.token").detail, "@doctor_bot (id 123456)");
  assert.equal(r.find("telegram.default.webhook").detail, `${TG_HOOK}; 0 update(s) waiting`);
  assert.equal(r.find("slack.scopes").detail, "app_mentions:read, chat:write, files:read, files:write");
  assert.equal(r.find("line.webhook").detail, `${PUBLIC}/line/webhook (in use)`);
  assert.equal(
    r.find("whatsapp.phone-number").detail,
    `+1 555-000-0000 "Fake Business" (phone number id ${wa.phoneNumberId})`,
  );
  assert.equal(r.find("sms.default.account").detail, "Fake account (active)");
});

test("the readable report marks each check and prints the fix under a failure", async () => {
  const r = await doctor((c) => {
    c.channels.telegram.botToken = "999:wrong-token";
  });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^✓ Configuration: .*clawgate\.json is valid$/m);
  assert.ok(
    r.stdout.includes(
      "✗ Telegram bot token: Telegram refused the bot token (Unauthorized)\n" +
        "    fix: copy the token again from @BotFather (/mybots → API Token) into channels.telegram.botToken or OPENCLAW_CONNECTOR_TELEGRAM_TOKEN\n",
    ),
    r.stdout,
  );
  assert.ok(r.stdout.endsWith("\n1 problem(s) block clawgate or a channel.\n"), r.stdout);
});

test("a wrong Telegram token is a failure with where to copy the token from", async () => {
  const r = await doctorJson((c) => {
    c.channels.telegram.botToken = "999:wrong-token";
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("telegram.default.token"), {
    id: "telegram.default.token",
    title: "Telegram bot token",
    status: "fail",
    detail: "Telegram refused the bot token (Unauthorized)",
    fix: "copy the token again from @BotFather (/mybots → API Token) into channels.telegram.botToken or OPENCLAW_CONNECTOR_TELEGRAM_TOKEN",
  });
});

test("a Telegram webhook pointing elsewhere is a failure with the command that points it here", async () => {
  await setTelegramWebhook("https://elsewhere.example.com/hook");
  try {
    const r = await doctorJson();
    assert.equal(r.code, 1);
    const c = r.find("telegram.default.webhook");
    assert.equal(c.status, "fail");
    assert.equal(c.detail, `Telegram delivers to https://elsewhere.example.com/hook, not to ${TG_HOOK}`);
    assert.equal(c.fix, "point it here: clawgate channels telegram set-webhook");
  } finally {
    await setTelegramWebhook(TG_HOOK);
  }
});

test("a webhook set on a polling bot is a failure whose fix is deleteWebhook", async () => {
  const r = await doctorJson((c) => {
    c.channels.telegram.mode = "polling";
  });
  assert.equal(r.code, 1);
  const c = r.find("telegram.default.webhook");
  assert.equal(c.status, "fail");
  assert.equal(
    c.detail,
    `a webhook is set (${TG_HOOK}), so Telegram refuses long polling (409 Conflict) and this bot receives nothing`,
  );
  assert.equal(
    c.fix,
    "delete the webhook (deleteWebhook): clawgate channels telegram delete-webhook; pending updates are kept",
  );
});

test("a Slack token without files:read is a warning naming the scope to add; doctor still exits 0", async () => {
  slack.scopes.delete("files:read");
  try {
    const r = await doctorJson();
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(r.find("slack.scopes"), {
      id: "slack.scopes",
      title: "Slack scopes",
      status: "warn",
      detail: "the token lacks files:read: pictures and files users send cannot be downloaded",
      fix: "add files:read under OAuth & Permissions → Bot Token Scopes at api.slack.com/apps, reinstall the app and copy the new Bot User OAuth Token (xoxb-…) into channels.slack.botToken",
    });
  } finally {
    slack.scopes.add("files:read");
  }
});

test("a LINE webhook URL that is not this gateway's is a failure with the URL to enter", async () => {
  line.webhook = { endpoint: "https://old.example.com/callback", active: true };
  try {
    const r = await doctorJson();
    assert.equal(r.code, 1);
    assert.deepEqual(r.find("line.webhook"), {
      id: "line.webhook",
      title: "LINE webhook",
      status: "fail",
      detail: `LINE posts to https://old.example.com/callback, not to ${PUBLIC}/line/webhook`,
      fix: `set Webhook URL to ${PUBLIC}/line/webhook in LINE Developers Console → your channel → Messaging API → Webhook settings`,
    });
  } finally {
    line.webhook = { endpoint: `${PUBLIC}/line/webhook`, active: true };
  }
});

test("a wrong WhatsApp phone number id is a failure saying which id Meta does not know", async () => {
  const r = await doctorJson((c) => {
    c.channels.whatsapp.phoneNumberId = "15550001234";
  });
  assert.equal(r.code, 1);
  const c = r.find("whatsapp.phone-number");
  assert.equal(c.status, "fail");
  assert.equal(
    c.detail,
    "Meta does not know phone number id 15550001234 for this token (Unsupported get request. Object with ID '15550001234' does not exist, cannot be loaded due to missing permissions, or does not support this operation)",
  );
  assert.equal(
    c.fix,
    "copy the Phone number ID (not the phone number) from WhatsApp → API Setup in the Meta app dashboard into channels.whatsapp.phoneNumberId, and use a token of the same WhatsApp Business Account",
  );
});

test("a wrong Twilio auth token is a failure quoting Twilio's error", async () => {
  const r = await doctorJson((c) => {
    c.channels.sms.authToken = "not-the-auth-token";
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("sms.default.account"), {
    id: "sms.default.account",
    title: "Twilio account",
    status: "fail",
    detail: "Twilio refused the account SID and auth token (HTTP 401, error 20003 Authenticate)",
    fix: "copy the Account SID and Auth Token from the Twilio console (Account info) into channels.sms.accountSid and .authToken (OPENCLAW_CONNECTOR_SMS_ACCOUNT_SID / _AUTH_TOKEN)",
  });
});

test("an agent that is down is a failure that says to start the model server", async () => {
  const r = await doctorJson((c) => {
    c.agentUrl = UNREACHABLE_AGENT_URL;
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("agent"), {
    id: "agent",
    title: `Agent ${UNREACHABLE_AGENT_URL}`,
    status: "fail",
    detail: `The agent at ${UNREACHABLE_AGENT_URL} is unreachable (connection refused)`,
    fix: "Start your model server (for Ollama: `ollama serve`) or set agentUrl in clawgate.json / OCG_AGENT_URL.",
  });
});

test("an unknown model is a failure that names the model to pull", async () => {
  const r = await doctorJson((c) => {
    c.model = "no-such-model";
  });
  assert.equal(r.code, 1);
  const c = r.find("agent");
  assert.equal(c.status, "fail");
  assert.equal(
    c.detail,
    `The agent at ${agent.url} answered 404: The model \`no-such-model\` does not exist or you do not have access to it.`,
  );
  assert.equal(
    c.fix,
    'Check that the URL ends in /v1/chat/completions and that the model "no-such-model" exists (for Ollama: `ollama pull no-such-model`).',
  );
});

test("a text-only model without tools is reported, never failed", async () => {
  agent.options.textOnly = true;
  agent.options.noTools = true;
  try {
    const r = await doctorJson();
    assert.equal(r.code, 0);
    assert.deepEqual(r.find("agent.vision"), {
      id: "agent.vision",
      title: "Agent pictures",
      status: "ok",
      detail:
        "fake-model is text only (it refused a picture with HTTP 400); users' pictures are described, not shown",
    });
    assert.deepEqual(r.find("agent.tools"), {
      id: "agent.tools",
      title: "Agent tools",
      status: "ok",
      detail: "fake-model does not take tool definitions (HTTP 400); clawgate does not need them",
    });
  } finally {
    agent.options.textOnly = false;
    agent.options.noTools = false;
  }
});

test("a data directory that cannot be written is a failure", async () => {
  const r = await doctorJson((c) => {
    c.dataDir = "./clawgate.json";
  });
  assert.equal(r.code, 1);
  const c = r.find("datadir.writable");
  assert.equal(c.status, "fail");
  assert.equal(
    c.detail,
    `cannot write to ${join(r.dir, "clawgate.json")} (ENOTDIR: a file is in the way); the store, media and keys live there`,
  );
  assert.equal(
    c.fix,
    `make ${join(r.dir, "clawgate.json")} a directory the clawgate user can write to (mkdir -p, chown), or set dataDir in clawgate.json to one`,
  );
});

test("a plain-http public URL fails the platforms that call only https", async () => {
  const r = await doctorJson((c) => {
    c.server.publicBaseUrl = "http://bot.example.com";
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("line.public-url"), {
    id: "line.public-url",
    title: "LINE webhook URL",
    status: "fail",
    detail: "http://bot.example.com/line/webhook is not https; LINE only calls https webhook URLs",
    fix: "put a TLS-terminating proxy (Caddy, nginx, a tunnel) in front of the gateway and set server.publicBaseUrl to its https:// address",
  });
  for (const id of ["slack.public-url", "whatsapp.public-url", "telegram.default.public-url"]) {
    assert.equal(r.find(id).status, "fail", id);
  }
  // Twilio calls http too: a warning, not a block.
  assert.equal(r.find("sms.default.public-url").status, "warn");
});

test("a clock 10 minutes off an answering server is a failure: signed webhooks would be refused", async () => {
  const late = await new FakeAgent({ models: ["fake-model"], clockOffsetMs: 10 * 60_000 }).start();
  try {
    const r = await doctorJson((c) => {
      c.agentUrl = late.url;
    });
    assert.equal(r.code, 1);
    const c = r.find("clock.skew");
    assert.equal(c.status, "fail");
    const host = new URL(late.url).host;
    assert.match(
      c.detail,
      new RegExp(
        `^this host's clock is (599|600|601) s behind ${host.replace(/\./g, "\\.")}: signed webhooks older than 300 s are refused \\(Slack, WeChat\\), so those channels receive nothing$`,
      ),
    );
    assert.equal(c.fix, "synchronise the clock (enable NTP: timedatectl set-ntp true, or chrony)");
  } finally {
    await late.stop();
  }
});

test("a config that does not validate is a failure with the loader's reason", async () => {
  const r = await doctorJson((c) => {
    c.server.port = "eighty";
  });
  assert.equal(r.code, 1);
  const c = r.find("config");
  assert.equal(c.status, "fail");
  assert.match(c.detail, /server\.port/);
  assert.equal(c.fix, "correct the file (clawgate config check shows the same), then run doctor again");
});

test("a clock 10 minutes off is only a warning when no configured channel checks request timestamps", async () => {
  const late = await new FakeAgent({ models: ["fake-model"], clockOffsetMs: 10 * 60_000 }).start();
  try {
    const r = await doctorJson((c) => {
      c.agentUrl = late.url;
      for (const name of ["slack", "wechat"] as const) c.channels[name].enabled = false;
    });
    assert.equal(r.code, 0, r.stdout);
    const c = r.find("clock.skew");
    assert.equal(c.status, "warn");
    assert.match(c.detail, /^this host's clock is (599|600|601) s behind 127\.0\.0\.1:\d+$/);
  } finally {
    await late.stop();
  }
});

test("a wrong Discord token is a failure; an application without the MESSAGE CONTENT intent a warning", async () => {
  const wrong = await doctorJson((c) => {
    c.channels.discord.token = fakeDiscordToken("999999999999999999");
  });
  assert.equal(wrong.code, 1);
  assert.deepEqual(wrong.find("discord.default.token"), {
    id: "discord.default.token",
    title: "Discord bot token",
    status: "fail",
    detail: "Discord refused the bot token (401 Unauthorized)",
    fix: "reset the token on the Developer Portal's Bot page and put it in channels.discord.token or OPENCLAW_CONNECTOR_DISCORD_TOKEN",
  });
  discord.messageContentAllowed = false;
  try {
    const r = await doctorJson();
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(r.find("discord.default.intents"), {
      id: "discord.default.intents",
      title: "Discord intents",
      status: "warn",
      detail:
        "the MESSAGE CONTENT intent is off: Discord closes the gateway connection (4014) and the bot receives nothing",
      fix: "Developer Portal → your application → Bot → Privileged Gateway Intents: enable MESSAGE CONTENT INTENT",
    });
  } finally {
    discord.messageContentAllowed = true;
  }
});

test("a wrong WeChat appSecret is a failure naming the secret and the IP allowlist", async () => {
  const r = await doctorJson((c) => {
    c.channels.wechat.appSecret = "not-the-secret";
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("wechat.default.access-token"), {
    id: "wechat.default.access-token",
    title: "WeChat appId and appSecret",
    status: "fail",
    detail:
      "WeChat issued no access token: WeChat cgi-bin/token: errcode 40125 invalid appsecret: check OPENCLAW_CONNECTOR_WECHAT_APP_ID / _APP_SECRET and the IP allowlist in the WeChat console",
    fix: "check channels.wechat.appId / .appSecret, and add this host's public IP to the IP allowlist in the WeChat console (Basic configuration)",
  });
});

test("PostgreSQL: version and settings are reported; synchronous_commit off is a warning", async () => {
  const db = await createTestDatabase("clawgate_doctor");
  try {
    const good = await doctorJson((c) => {
      c.database = { url: db.url };
    });
    assert.equal(good.code, 0, good.stdout);
    const store = good.find("store");
    assert.equal(store.status, "ok");
    assert.match(
      store.detail,
      /^PostgreSQL \d+\.\d+.* at postgres:\/\/.*, schema version 0; \d+ migration\(s\) will be applied at start$/,
    );
    assert.equal(good.find("store.synchronous-commit").detail, "on");
    assert.match(good.find("store.connections").detail, /^max_connections \d+; pool up to 10 per replica/);

    await withAdmin((c) => c.query(`ALTER DATABASE ${db.name} SET synchronous_commit = off`));
    const off = await doctorJson((c) => {
      c.database = { url: `${db.url}?pool_max=4` };
    });
    assert.equal(off.code, 0, off.stdout);
    assert.deepEqual(off.find("store.synchronous-commit"), {
      id: "store.synchronous-commit",
      title: "PostgreSQL synchronous_commit",
      status: "warn",
      detail:
        "synchronous_commit is off: a crash of PostgreSQL can lose messages the platforms were told were received",
      fix: "set synchronous_commit = on (postgresql.conf, or ALTER ROLE … SET synchronous_commit = on)",
    });
    assert.match(off.find("store.connections").detail, /pool up to 4 per replica/);
  } finally {
    await db.drop();
  }
});

test("PostgreSQL that does not answer is a failure; its password is not printed", async () => {
  const r = await doctorJson((c) => {
    c.database = { url: "postgres://clawgate:s3cret-pw@127.0.0.1:2/clawgate" };
  });
  assert.equal(r.code, 1);
  const c = r.find("store");
  assert.equal(c.status, "fail");
  assert.equal(
    c.detail,
    "cannot connect to postgres://127.0.0.1:2/clawgate: connect ECONNREFUSED 127.0.0.1:2",
  );
  assert.equal(c.fix, "start PostgreSQL or fix database.url (host, port, user, password, database name)");
  assert.ok(!r.stdout.includes("s3cret-pw"));
});

test("a plugin's channel adds its own checks", async () => {
  const plugin = resolve(import.meta.dirname, "../../examples/plugins/signed-webhook/src/index.ts");
  const r = await doctorJson((c) => {
    c.plugins = [plugin];
    c.channels["signed-webhook"] = {
      secret: "inbound-secret-0123456789",
      outboundUrl: "http://replies.example.com/hook",
      outboundSecret: "outbound-secret-0123456789",
    };
  });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.find("config").detail, /is valid; plugins: signed-webhook$/);
  assert.deepEqual(r.find("signed-webhook.default.outbound-url"), {
    id: "signed-webhook.default.outbound-url",
    title: "Reply URL",
    status: "warn",
    detail:
      "http://replies.example.com/hook is plain http: replies and their signatures cross the network unencrypted",
    fix: "serve the reply endpoint over https and update outboundUrl",
  });
});

test("ComfyUI: each server's version and device; one down in a pool is a warning, all down a failure", async () => {
  const comfy = await FakeComfyUI.start();
  try {
    const pool = await doctorJson((c) => {
      c.comfyui = { servers: [comfy.url, "http://127.0.0.1:2"] };
    });
    assert.equal(pool.code, 0, pool.stdout);
    assert.equal(
      pool.find("comfyui.comfyui-1").detail,
      `${comfy.url}: ComfyUI 0.3.66 on cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync`,
    );
    assert.deepEqual(pool.find("comfyui.comfyui-2"), {
      id: "comfyui.comfyui-2",
      title: "ComfyUI comfyui-2",
      status: "warn",
      detail:
        "ComfyUI at http://127.0.0.1:2 is not reachable (ECONNREFUSED): the other servers take its jobs",
      fix: "start ComfyUI (python main.py --listen) or fix comfyui.servers / OPENCLAW_CONNECTOR_URL",
    });
    const down = await doctorJson((c) => {
      c.comfyui = { servers: ["http://127.0.0.1:2"] };
    });
    assert.equal(down.code, 1);
    assert.equal(down.find("comfyui.comfyui").status, "fail");
    assert.equal(
      down.find("comfyui.comfyui").detail,
      "ComfyUI at http://127.0.0.1:2 is not reachable (ECONNREFUSED): /run cannot start a job",
    );
  } finally {
    await comfy.close();
  }
});

test("a platform that cannot be reached is a failure naming the API base to check", async () => {
  const r = await doctorJson((c) => {
    c.channels.telegram.apiBase = "http://127.0.0.1:2";
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.find("telegram.default.token"), {
    id: "telegram.default.token",
    title: "Telegram bot token",
    status: "fail",
    detail: "cannot reach Telegram at http://127.0.0.1:2: Telegram getMe: network error (connection refused)",
    fix: "check this host's network access to http://127.0.0.1:2 (proxy, firewall, DNS) or channels.telegram.apiBase",
  });
});

test("an existing SQLite store reports its schema version; a damaged one is a failure", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-doctor-"));
  dirs.push(dir);
  await mkdir(join(dir, "data"));
  const db = join(dir, "data", "clawgate.db");
  const store = await openStore(db);
  await store.close();
  await writeFile(join(dir, "clawgate.json"), JSON.stringify(baseConfig()));
  const good = JSON.parse((await clawgate(dir, "doctor", "--json")).stdout) as { checks: Check[] };
  assert.deepEqual(
    good.checks.find((c) => c.id === "store"),
    {
      id: "store",
      title: "Store (SQLite)",
      status: "ok",
      detail: `${db}, schema version ${sqliteMigrations.length}`,
    },
  );

  await writeFile(db, "this is not a database, it is a note someone saved over it\n".repeat(200));
  const bad = await clawgate(dir, "doctor", "--json");
  assert.equal(bad.code, 1);
  assert.deepEqual(
    (JSON.parse(bad.stdout) as { checks: Check[] }).checks.find((c) => c.id === "store"),
    {
      id: "store",
      title: "Store (SQLite)",
      status: "fail",
      detail: `cannot open ${db}: file is not a database`,
      fix: "check that the file is a clawgate database and readable by this user (restore it from a backup if it is damaged), or set database.url",
    },
  );
});
