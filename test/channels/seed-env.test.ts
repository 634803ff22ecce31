import assert from "node:assert/strict";
import { it } from "node:test";
import { lineFromEnv } from "../../src/channels/line/config.ts";
import { slackFromEnv } from "../../src/channels/slack/config.ts";
import { whatsappFromEnv } from "../../src/channels/whatsapp/config.ts";

it("the connector's Slack variables map to channels.slack with the seed's listener defaults", () => {
  assert.equal(slackFromEnv({ OPENCLAW_CONNECTOR_SLACK_ALLOWED_USERS: "U1" }), undefined, "not configured");
  assert.deepEqual(
    slackFromEnv({
      OPENCLAW_CONNECTOR_SLACK_BOT_TOKEN: " xoxb-1 ",
      OPENCLAW_CONNECTOR_SLACK_SIGNING_SECRET: "s",
      OPENCLAW_CONNECTOR_SLACK_ALLOWED_USERS: "U12345, U67890",
      OPENCLAW_CONNECTOR_SLACK_ALLOWED_CHANNELS: "C12345",
      OPENCLAW_CONNECTOR_SLACK_REQUIRE_MENTION: "false",
      OPENCLAW_CONNECTOR_SLACK_REPLY_IN_THREAD: "true",
      OPENCLAW_CONNECTOR_SLACK_API_BASE: "http://127.0.0.1:9/api",
    }),
    {
      listen: { host: "127.0.0.1", port: 8095 },
      botToken: "xoxb-1",
      signingSecret: "s",
      apiBase: "http://127.0.0.1:9/api",
      allowedUsers: ["U12345", "U67890"],
      allowedChannels: ["C12345"],
      requireMention: false,
      replyInThread: true,
    },
  );
});

it("LINE and WhatsApp: bind, port, path and allowlists from the seed's variables", () => {
  assert.deepEqual(
    lineFromEnv({
      OPENCLAW_CONNECTOR_LINE_CHANNEL_SECRET: "sec",
      OPENCLAW_CONNECTOR_LINE_BIND: "0.0.0.0",
      OPENCLAW_CONNECTOR_LINE_PORT: "9099",
      OPENCLAW_CONNECTOR_LINE_PATH: "/hook",
      OPENCLAW_CONNECTOR_LINE_ALLOWED_GROUPS: "C1",
    }),
    { listen: { host: "0.0.0.0", port: 9099 }, channelSecret: "sec", path: "/hook", allowedGroups: ["C1"] },
  );
  assert.deepEqual(whatsappFromEnv({ OPENCLAW_CONNECTOR_WHATSAPP_VERIFY_TOKEN: "v" }), {
    listen: { host: "127.0.0.1", port: 8098 },
    verifyToken: "v",
  });
  assert.throws(
    () => lineFromEnv({ OPENCLAW_CONNECTOR_LINE_CHANNEL_SECRET: "s", OPENCLAW_CONNECTOR_LINE_PORT: "x" }),
    /OPENCLAW_CONNECTOR_LINE_PORT/,
  );
});

it("every channel's variables go through the one mapper: Telegram and Discord open no listener of their own", async () => {
  const { telegramFromEnv } = await import("../../src/channels/telegram/config.ts");
  const { discordFromEnv } = await import("../../src/channels/discord/config.ts");
  const { wechatFromEnv } = await import("../../src/channels/wechat/index.ts");
  assert.equal(telegramFromEnv({ OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: "1" }), undefined);
  assert.deepEqual(
    telegramFromEnv({
      OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: " 123:abc ",
      OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: "1, 2",
      OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_CHATS: "-100",
      // Read per account as the API base's fallback, not copied into the section.
      OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: "http://127.0.0.1:9",
    }),
    { botToken: "123:abc", allowedUsers: ["1", "2"], allowedChats: ["-100"] },
  );
  assert.deepEqual(
    discordFromEnv({ OPENCLAW_CONNECTOR_DISCORD_TOKEN: "tok", OPENCLAW_CONNECTOR_DISCORD_PORT: "1" }),
    {
      token: "tok",
    },
  );
  assert.deepEqual(
    wechatFromEnv({
      OPENCLAW_CONNECTOR_WECHAT_TOKEN: "t",
      OPENCLAW_CONNECTOR_WECHAT_PATH: "/wx",
      OPENCLAW_CONNECTOR_WECHAT_PORT: "9097",
    }),
    { listen: { host: "127.0.0.1", port: 9097 }, token: "t", path: "/wx" },
  );
});
