// The gateway the console's browser tests drive: an admin token, the web chat, a Telegram bot at the fake Bot
// API (configured in the file, so the Channels page can edit it), device pairing over the bridge, and ComfyUI
// (approvals, schedules) at the fake ComfyUI, with the fake agent answering.
import { randomUUID } from "node:crypto";
import { cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { securityExtension } from "../../src/bridge/extension.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { comfyuiExtension } from "../../src/targets/comfyui/extension.ts";
import { BOT } from "../channels/telegram-helpers.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeTelegram } from "../fakes/telegram.ts";
import { startTestGateway, type TestGateway, tempDir } from "../helpers/gateway.ts";
import { ADMIN_TOKEN } from "./console-helpers.ts";

export interface ConsoleGateway extends TestGateway {
  telegram: FakeTelegram;
  agent: FakeAgent;
  comfy: FakeComfyUI;
  close(): Promise<void>;
}

export async function startConsoleGateway(): Promise<ConsoleGateway> {
  const telegram = await new FakeTelegram([BOT]).start();
  const agent = await new FakeAgent({ reply: () => "Here is the answer." }).start();
  const comfy = await FakeComfyUI.start({ steps: 2, stepMs: 10 });
  const dir = tempDir("clawgate-console-");
  const templatesDir = join(dir, "templates");
  cpSync(resolve(import.meta.dirname, "../../examples/templates"), templatesDir, { recursive: true });
  const gw = await startTestGateway({
    dir,
    extensions: [comfyuiExtension(), securityExtension()],
    config: {
      adminToken: ADMIN_TOKEN,
      agentUrl: agent.url,
      bridge: { enabled: true },
      policy: { adminUsers: ["local"] },
      channels: {
        telegram: { botToken: BOT.token, apiBase: telegram.url, pollTimeoutSec: 1, setCommands: false },
      },
      comfyui: {
        servers: [comfy.url],
        templatesDir,
        healthIntervalMs: 200,
        progressIntervalMs: 0,
        approvals: { sweepIntervalMs: 100 },
        schedules: { tickMs: 100 },
      },
    },
  });
  // The web chat trusts everyone; the sender "stranger" is treated as not on the allowlist, so its /run waits
  // for an approval.
  const webchat = gw.gateway.adapter("webchat", "default")!;
  (webchat as { isTrusted(e: InboundEvent): boolean }).isTrusted = (e) => e.sender.id !== "stranger";
  return {
    ...gw,
    telegram,
    agent,
    comfy,
    close: async () => {
      await gw.stop();
      await telegram.stop();
      await agent.stop();
      await comfy.close();
    },
  };
}

/** Sends a web chat message as `userId` (a new thread each time unless given). */
export async function chat(url: string, text: string, userId = "local", thread?: string): Promise<string> {
  const id =
    thread ??
    (
      (await (
        await fetch(`${url}/api/threads`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        })
      ).json()) as { id: string }
    ).id;
  const res = await fetch(`${url}/api/threads/${id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, userId, clientMessageId: randomUUID().replaceAll("-", "") }),
  });
  if (res.status !== 202) throw new Error(`web chat message: HTTP ${res.status} ${await res.text()}`);
  return id;
}
