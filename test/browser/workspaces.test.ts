// Workspaces in Chromium against a real gateway and the fake agent: create a workspace from the switcher,
// upload a file, pin it (the token budget moves), start a chat in the workspace and get an answer that could
// only come from the pinned file; then the panel at 375 px wide, and a file attached to a message.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { workspacesExtension } from "../../src/workspaces/extension.ts";
import { FakeAgent, type FakeAgentRequest, textOf } from "../fakes/openai-agent.ts";
import { axeViolations } from "../helpers/axe.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { closePage, committedReply, openPage, type } from "./webchat-helpers.ts";

const BRIEF = "Falcon launches on 3 March.";

function answer(r: FakeAgentRequest): string {
  const system = r.body.messages
    .filter((m) => m.role === "system")
    .map((m) => textOf(m.content))
    .join("\n");
  const last = [...r.body.messages].reverse().find((m) => m.role === "user")!;
  const user = textOf(last.content);
  if (user.includes("attached"))
    return `The attachment says: ${user.includes(BRIEF) ? BRIEF : "nothing I can read"}`;
  return system.includes(BRIEF) ? `From the pinned brief: ${BRIEF}` : "I have no brief.";
}

describe("workspaces in the browser", () => {
  let browser: TestBrowser;
  let agent: FakeAgent;
  let gw: TestGateway;

  before(async () => {
    browser = await launchChromium();
    agent = await new FakeAgent({ reply: answer }).start();
    gw = await startTestGateway({ config: { agentUrl: agent.url }, extensions: [workspacesExtension()] });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await browser?.close();
  });

  test("create a workspace, upload and pin a file, chat in it: the answer uses the file", async () => {
    const page = await openPage(browser, gw.url);
    page.on("dialog", (d) => void (d.type() === "prompt" ? d.accept("Falcon") : d.accept()));
    await page.locator("#ws-select").selectOption("+new");
    const dialog = page.locator("#ws-dialog");
    await dialog.getByRole("heading", { name: "Falcon" }).waitFor();
    await page.locator("#ws-file").setInputFiles({
      name: "brief.txt",
      mimeType: "text/plain",
      buffer: Buffer.from(`Project brief\n${BRIEF}\n`),
    });
    const row = dialog.locator("li[data-file]", { hasText: "brief.txt" });
    await row.waitFor();
    assert.equal(await page.locator("#ws-budget-text").textContent(), "0 of 8000 tokens");
    await row.getByLabel("Pin").check();
    await page.locator("#ws-budget-text", { hasText: "11 of 8000 tokens" }).waitFor();
    await row.getByRole("button", { name: "Preview brief.txt" }).click();
    await page.locator(".ws-preview", { hasText: BRIEF }).waitFor();

    await Promise.all([
      page.waitForEvent("load"),
      page.getByRole("button", { name: "New chat in this workspace" }).click(),
    ]);
    await type(page, "when is the launch?");
    await committedReply(page, `From the pinned brief: ${BRIEF}`);
    assert.equal(
      await page.locator("#ws-select").inputValue(),
      (await gw.gateway.store.workspaces.list())[0]!.id,
    );
    await closePage(page);
  });

  test("at 375 px the panel fits the screen, and a workspace file can be attached to a message", async () => {
    const page = await openPage(browser, gw.url);
    await page.setViewportSize({ width: 375, height: 740 });
    await page.locator("#ws-open").click();
    const dialog = page.locator("#ws-dialog");
    await dialog.locator("li[data-file]").first().waitFor();
    const box = (await dialog.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 375, `dialog spans ${box.x}..${box.x + box.width}`);
    const overflow = await dialog.evaluate((d) => d.scrollWidth - d.clientWidth);
    assert.equal(overflow, 0, "nothing in the panel scrolls sideways");
    assert.deepEqual(await axeViolations(page, "#ws-dialog"), [], "the panel passes axe (WCAG A/AA)");
    assert.deepEqual(await axeViolations(page, "#ws-switcher"), []);
    await dialog.getByRole("button", { name: "Attach brief.txt" }).click();
    await page.locator("#attachments", { hasText: "brief.txt" }).waitFor();
    await type(page, "what does the attached file say?");
    await committedReply(page, `The attachment says: ${BRIEF}`);

    // Memory: /remember in the chat shows in the panel; a fact added there can be forgotten.
    await type(page, "/remember I like green tea");
    await page.locator(".msg", { hasText: "Remembered: I like green tea" }).waitFor();
    await page.locator("#ws-open").click();
    const saved = dialog.getByRole("list", { name: "Saved memories" });
    await saved.getByText("I like green tea").waitFor();
    await dialog.getByLabel("New memory").fill("Meetings are on Mondays");
    await dialog.getByRole("button", { name: "Remember", exact: true }).click();
    await saved.getByText("Meetings are on Mondays").waitFor();
    await dialog.getByRole("button", { name: "Forget: I like green tea" }).click();
    await saved.getByText("I like green tea").waitFor({ state: "detached" });
    await closePage(page);
  });
});
