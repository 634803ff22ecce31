// The registry describes the channels whose adapter code loads lazily (src/channels/lazy.ts) with their settings
// alone; those must be the very settings the adapter's own module declares, or the config schema would accept
// what create() then refuses.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lazyChannel } from "../../src/channels/lazy.ts";
import { channelModules } from "../../src/channels/registry.ts";
import type { ChannelModule } from "../../src/channels/types.ts";

const adapters: Record<string, () => Promise<ChannelModule>> = {
  slack: async () => (await import("../../src/channels/slack/index.ts")).slackModule,
  line: async () => (await import("../../src/channels/line/index.ts")).lineModule,
  whatsapp: async () => (await import("../../src/channels/whatsapp/index.ts")).whatsappModule,
  wechat: async () => (await import("../../src/channels/wechat/index.ts")).wechatModule,
  telegram: async () => (await import("../../src/channels/telegram/index.ts")).telegramModule,
  discord: async () => (await import("../../src/channels/discord/index.ts")).discordModule,
};

for (const [name, load] of Object.entries(adapters)) {
  test(`${name}: the registry's entry declares what its adapter module declares, and loads it`, async () => {
    const entry = channelModules[name]!;
    const own = await load();
    const { create: _a, load: _b, doctor: _d, ...declared } = entry;
    const { create: _c, doctor: _e, ...owned } = own;
    assert.deepEqual(Object.keys(declared).sort(), Object.keys(owned).sort());
    for (const key of Object.keys(owned))
      assert.equal(declared[key as keyof typeof declared], owned[key as keyof typeof owned], key);
    assert.equal(typeof entry.load, "function");
    assert.equal(typeof entry.doctor, typeof own.doctor, "doctor");
    await entry.load!();
  });
}

test("create() before load() refuses, naming the channel and the step", async () => {
  const own = await adapters.line!();
  const { create: _c, doctor: _d, ...spec } = own;
  const lazy = lazyChannel(spec, async () => own);
  assert.throws(
    () => lazy.create({} as never, {} as never, "default"),
    /^Error: the line channel's code is not loaded: await its module's load\(\) before create\(\)$/,
  );
  await lazy.load!();
  assert.equal(typeof lazy.create, "function");
});
