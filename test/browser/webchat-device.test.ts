// A paired device chats in the web app: from a setup code through the bridge handshake, an operator's approval
// with the `chat` scope and the poll's chat_url, to a chat answered in a second browser (its own profile, as a
// phone would be). The device sees only its own threads, and revoking it signs the page out.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type SecurityExtension, securityExtension } from "../../src/bridge/extension.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { closePage, committedReply, openPage, replyTo, type, useBrowserAndAgent } from "./webchat-helpers.ts";

const { browser, agent } = useBrowserAndAgent();

async function postJson(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("a paired device in the web app", () => {
  let gw: TestGateway;
  let ext: SecurityExtension;
  let phone: TestBrowser;
  before(async () => {
    ext = securityExtension();
    gw = await startTestGateway({
      config: { agentUrl: agent().url, bridge: { enabled: true } },
      extensions: [ext],
    });
    phone = await launchChromium();
  });
  after(async () => {
    await phone?.close();
    await gw?.stop();
  });

  test("setup code → handshake → approved with chat → the phone opens chat_url and gets its answer", async () => {
    // The operator has a thread of its own, which the phone must not see.
    const operator = new WebchatClient(gw.url);
    const mine = await operator.createThread("operator's own");
    await operator.send(mine, "operator note");

    const setup = await ext.pairing!.createSetup("test");
    const hello = await postJson(`${gw.url}/bridge/handshake`, {
      setup_code: setup.code,
      name: "Ana's phone",
      platform: "android",
      scopes: ["chat"],
    });
    assert.equal(hello.status, 202);
    const poll = { request_id: hello.json.request_id, poll_token: hello.json.poll_token };
    assert.equal((await postJson(`${gw.url}/bridge/handshake`, poll)).status, 202, "pending until approved");
    // The operator chooses the scopes at approval.
    await ext.pairing!.approve(hello.json.request_id as string, "test", ["chat"]);
    const approved = await postJson(`${gw.url}/bridge/handshake`, poll);
    assert.equal(approved.status, 200);
    assert.deepEqual(approved.json.scopes, ["chat"]);
    const deviceId = approved.json.device_id as string;
    assert.equal(approved.json.chat_url, `${gw.url}/#token=${deviceId}.${approved.json.token}`);

    const page = await openPage(phone, approved.json.chat_url as string);
    try {
      // The page takes the token out of the address bar.
      await page.waitForFunction(() => !location.hash.includes("token"));
      assert.equal(await page.locator(".thread").count(), 0, "the operator's thread is not the phone's");
      await type(page, "hello from the phone");
      await committedReply(page, replyTo("hello from the phone"));
      const thread = (await page.locator(".thread.active").getAttribute("data-id"))!;
      assert.ok(thread.startsWith(`${deviceId}-`), `the phone's thread ${thread} carries its device id`);
      // The operator's browser (another profile) lists its own thread, not the phone's.
      const desk = await openPage(browser(), `${gw.url}/`);
      await desk.locator(".thread", { hasText: "operator's own" }).waitFor();
      assert.equal(await desk.locator(`.thread[data-id="${thread}"]`).count(), 0);
      await closePage(desk);

      // Revoked: the page is signed out and says why.
      await ext.pairing!.devices.revoke(deviceId);
      await type(page, "still there?");
      await page
        .locator("#banner", { hasText: "this device's chat token was revoked: pair the device again" })
        .waitFor();
    } finally {
      await closePage(page);
    }
  });

  test("a browser pairs itself at /pair from the link /pair chat gives, and chats once the operator approves", async () => {
    const setup = await ext.pairing!.createSetup("test");
    assert.equal(setup.pairUrl, `${gw.url}/pair#code=${setup.code}`);
    const page = await openPage(phone, setup.pairUrl);
    try {
      // The code is taken out of the address bar at once.
      await page.waitForFunction(() => location.hash === "");
      assert.equal(await page.locator("#code").inputValue(), setup.code);
      await page.locator("#name").fill("Ben's laptop");
      await page.locator("#pair button").click();
      await page
        .locator("#status", { hasText: `Waiting for the operator to approve "Ben's laptop"` })
        .waitFor();
      const [request] = await ext.pairing!.devices.pendingRequests();
      assert.equal(request?.name, "Ben's laptop");
      assert.deepEqual(request?.requestedScopes, ["chat"]);
      await ext.pairing!.approve(request!.id, "test");
      // The page opens the chat signed in as the device.
      await page.waitForURL(`${gw.url}/`);
      await type(page, "hello from the laptop");
      await committedReply(page, replyTo("hello from the laptop"));
      const thread = (await page.locator(".thread.active").getAttribute("data-id"))!;
      const device = (await ext.pairing!.devices.listDevices()).find((d) => d.name === "Ben's laptop")!;
      assert.ok(thread.startsWith(`${device.id}-`), thread);
    } finally {
      await closePage(page);
    }
  });
});
