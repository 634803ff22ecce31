// A web chat caller can name itself (userId), but that name is its own claim: it must not borrow the admin
// rights of a user with the same id on another platform.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

const secretCommand: GatewayExtension = {
  name: "test-admin-command",
  setup(gw) {
    gw.commands.register({
      name: "/secret",
      description: "an admin-only test command",
      handler: () => ({ text: "the secret" }),
    });
  },
};

async function say(base: string, thread: string, text: string, userId?: string) {
  const res = await fetch(`${base}/api/threads/${thread}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(userId ? { text, userId } : { text }),
  });
  return ((await res.json()) as { eventId: string }).eventId;
}

it("a web chat userId equal to another platform's admin id is not an admin; webchat:<id> is", async () => {
  const gw = await startTestGateway({
    config: { policy: { adminUsers: ["42", "webchat:boss"] } },
    extensions: [secretCommand],
  });
  try {
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const spoof = await chat.reply(thread, await say(gw.url, thread, "/secret", "42"));
    assert.equal(spoof.role, "error");
    assert.match(spoof.content, /admin command/);
    const boss = await chat.reply(thread, await say(gw.url, thread, "/secret", "boss"));
    assert.equal(boss.content, "the secret");
  } finally {
    await gw.stop();
  }
});
