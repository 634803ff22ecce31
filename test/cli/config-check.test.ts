// `clawgate config check` refuses exactly what `clawgate start` refuses, and `clawgate channels add` writes values
// of the type the channel expects (or refuses them), so a check that says "valid" means start will start.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { clawgate } from "../helpers/cli.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, "clawgate.json"), "utf8"));
const writeJson = (dir: string, value: unknown) =>
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify(value, null, 2));

/** What `start` says about the same file: the gateway either starts (undefined) or throws this message. */
async function startRefusal(dir: string): Promise<string | undefined> {
  const config = readJson(dir);
  try {
    const gw = await startTestGateway({ config, dir });
    await gw.stop();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const WHATSAPP = {
  accessToken: "EAAG-access-token-value",
  verifyToken: "verify-me-please",
  phoneNumberId: "1234567890",
};

describe("clawgate config check", () => {
  test("WhatsApp without its app secret: check refuses it, as start does", async () => {
    const dir = tempDir();
    writeJson(dir, { channels: { whatsapp: WHATSAPP } });
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0, check.stdout);
    assert.match(check.stderr, /channels\.whatsapp\.appSecret: required/);
    assert.doesNotMatch(check.stdout, /Configuration is valid/);
    assert.match((await startRefusal(dir))!, /channels\.whatsapp\.appSecret/);
  });

  test("settings of the wrong type in a channel section are refused with their key path", async () => {
    const dir = tempDir();
    writeJson(dir, {
      channels: {
        line: {
          channelSecret: "line-secret-value",
          channelAccessToken: "line-access-token",
          allowedUsers: "U1,U2",
          listen: { port: "18099" },
        },
      },
    });
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0);
    assert.match(check.stderr, /channels\.line\.allowedUsers/);
    assert.match(check.stderr, /channels\.line\.listen\.port/);
    assert.ok(await startRefusal(dir), "start refuses it too");
  });

  test("a channel's own settings error (SMS without its public URL) is reported with its key path", async () => {
    const dir = tempDir();
    writeJson(dir, {
      channels: {
        sms: { accountSid: `AC${"1".repeat(32)}`, authToken: "twilio-auth-token", from: "+15550001111" },
      },
    });
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0);
    assert.match(check.stderr, /channels\.sms\.publicUrl: required/);
    assert.ok(await startRefusal(dir));
  });

  test("the seed's ocg.json with channels no module provides is refused by check and start, naming the known ones", async () => {
    const dir = tempDir();
    // What the channel-gateway seed's users run through its channel plugins: before, check called this valid and
    // start ran only the web chat.
    writeFileSync(
      join(dir, "ocg.json"),
      JSON.stringify({
        agentUrl: "http://127.0.0.1:11434/v1/chat/completions",
        channels: {
          "wechat-personal": { accounts: { default: { enabled: true } } },
          dingtalk: { enabled: true, clientId: "ding-client" },
          qq: { enabled: true, appId: "YOUR_APP_ID", clientSecret: "YOUR_CLIENT_SECRET" },
          telegram: { accounts: { default: { enabled: true, botToken: "123456:ABC-DEF" } } },
        },
      }),
    );
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0, check.stdout);
    assert.doesNotMatch(check.stdout, /Configuration is valid/);
    for (const name of ["wechat-personal", "dingtalk", "qq"]) {
      assert.match(check.stderr, new RegExp(`channels\\.${name}: no channel module provides this channel`));
    }
    assert.match(
      check.stderr,
      /known: webchat, slack, line, whatsapp, wechat, kakao, sms, telegram, discord/,
    );
    assert.match(check.stderr, /add a plugin: docs\/plugins\.md/);
    assert.doesNotMatch(check.stderr, /channels\.telegram/, "the seed's telegram account is fine");
    const start = await clawgate(dir, "start");
    assert.notEqual(start.code, 0, "start refuses it too instead of running only the web chat");
    assert.match(start.stderr, /channels\.qq: no channel module provides this channel/);
  });

  test("the seed's own shape passes: telegram under accounts.default with the seed's key names", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "ocg.json"),
      JSON.stringify({
        agentUrl: "http://127.0.0.1:11434/v1/chat/completions",
        model: "gpt-4o",
        apiKey: "",
        verbose: false,
        channels: { telegram: { accounts: { default: { enabled: true, token: "123456:ABC-DEF" } } } },
      }),
    );
    const check = await clawgate(dir, "config", "check");
    assert.equal(check.code, 0, check.stderr);
  });

  test("a single-account channel given accounts is refused instead of ignored", async () => {
    const dir = tempDir();
    writeJson(dir, {
      channels: { whatsapp: { accounts: { ops: { ...WHATSAPP, appSecret: "app-secret-value" } } } },
    });
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0);
    assert.match(check.stderr, /channels\.whatsapp\.accounts: whatsapp takes one account/);
  });

  test("a complete configuration is valid for both", async () => {
    const dir = tempDir();
    writeJson(dir, { channels: { whatsapp: { ...WHATSAPP, appSecret: "app-secret-value" } } });
    const check = await clawgate(dir, "config", "check");
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /Configuration is valid/);
    assert.equal(await startRefusal(dir), undefined);
  });
});

describe("clawgate channels add writes what the channel expects", () => {
  test("--allowedUsers U1,U2 --listen.port N become a list and a number; check and start accept them", async () => {
    const dir = tempDir();
    const added = await clawgate(
      dir,
      "channels",
      "add",
      "--channel",
      "line",
      "--channelSecret",
      "line-secret-value",
      "--channelAccessToken",
      "line-access-token",
      "--allowedUsers",
      "U1,U2",
      "--listen.port",
      "0",
    );
    assert.equal(added.code, 0, added.stderr);
    const line = readJson(dir).channels.line;
    assert.deepEqual(line.allowedUsers, ["U1", "U2"]);
    assert.equal(line.listen.port, 0);
    assert.equal(line.channelSecret, "line-secret-value", "strings stay strings");
    const check = await clawgate(dir, "config", "check");
    assert.equal(check.code, 0, check.stderr);
    assert.equal(await startRefusal(dir), undefined);
  });

  test("one id for a list setting becomes a one-element list; digits meant as a string stay a string", async () => {
    const dir = tempDir();
    const added = await clawgate(
      dir,
      "channels",
      "add",
      "--channel",
      "whatsapp",
      "--accessToken",
      "EAAG-access-token-value",
      "--verifyToken",
      "12345678",
      "--appSecret",
      "app-secret-value",
      "--phoneNumberId",
      "1234567890",
      "--allowedUsers",
      "15551230001",
    );
    assert.equal(added.code, 0, added.stderr);
    const wa = readJson(dir).channels.whatsapp;
    assert.equal(wa.verifyToken, "12345678");
    assert.equal(wa.phoneNumberId, "1234567890");
    assert.deepEqual(wa.allowedUsers, ["15551230001"]);
    assert.equal((await clawgate(dir, "config", "check")).code, 0);
  });

  test("a value no reading of which is valid is refused, and the file is left as it was", async () => {
    const dir = tempDir();
    writeJson(dir, { model: "llama" });
    const before = readFileSync(join(dir, "clawgate.json"), "utf8");
    const added = await clawgate(dir, "channels", "add", "--channel", "line", "--listen.port", "not-a-port");
    assert.notEqual(added.code, 0);
    assert.match(added.stderr, /not saved.*\n.*channels\.line\.listen\.port/);
    assert.equal(readFileSync(join(dir, "clawgate.json"), "utf8"), before);
  });

  test("a section saved without its secrets yet is saved, with a note of what start still needs", async () => {
    const dir = tempDir();
    const added = await clawgate(dir, "channels", "add", "--channel", "line", "--allowedUsers", "U1");
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(readJson(dir).channels.line.allowedUsers, ["U1"]);
    assert.match(added.stderr, /start will refuse line until.*\n.*channels\.line\.channelSecret: required/);
  });
});
