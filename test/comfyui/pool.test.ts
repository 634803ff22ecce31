// The ComfyUI pool's background health loop: once stopped, it checks no server again and connects no socket,
// even when a check was still in flight at stop().
import assert from "node:assert/strict";
import { after, test } from "node:test";
import pino from "pino";
import { ComfyPool } from "../../src/targets/comfyui/pool.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { waitFor } from "../helpers/gateway.ts";

const fakes: FakeComfyUI[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

test("a health check in flight at stop() schedules no further check and connects nothing", async () => {
  const comfy = await FakeComfyUI.start();
  fakes.push(comfy);
  let release!: () => void;
  comfy.statsGate = new Promise<void>((r) => {
    release = r;
  });
  const pool = new ComfyPool([{ url: comfy.url, name: "a" }], {
    log: pino({ level: "silent" }),
    healthIntervalMs: 20,
    timeoutMs: 2000,
  });
  const healthy: string[] = [];
  pool.start((s) => healthy.push(s.name));
  await waitFor(() => comfy.statsRequests === 1);
  pool.stop();
  release();
  comfy.statsGate = undefined;
  const server = pool.servers[0]!;
  await waitFor(() => server.checkedAt !== undefined);
  // Ten intervals: a loop that was still alive would have checked again by now.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(comfy.statsRequests, 1);
  assert.deepEqual(healthy, []);
});

test("a pool started again after stop() keeps checking", async () => {
  const comfy = await FakeComfyUI.start();
  fakes.push(comfy);
  const pool = new ComfyPool([{ url: comfy.url, name: "a" }], {
    log: pino({ level: "silent" }),
    healthIntervalMs: 20,
    timeoutMs: 2000,
  });
  const healthy: string[] = [];
  pool.start((s) => healthy.push(s.name));
  await waitFor(() => healthy.length === 1);
  pool.stop();
  pool.start((s) => healthy.push(s.name));
  const seen = comfy.statsRequests;
  await waitFor(() => comfy.statsRequests >= seen + 3);
  pool.stop();
});
