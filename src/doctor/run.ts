// `clawgate doctor`'s checks in order: configuration, host, store, agent, channels, and last the clock, measured
// from every answer the others got. Nothing here starts the gateway or changes its data.

import type { DoctorCheck } from "../channels/types.ts";
import { databaseUrl, type LoadedConfig } from "../config/load.ts";
import { createLogger } from "../log.ts";
import { openStore } from "../store/open.ts";
import { agentChecks, agentTargets } from "./agent.ts";
import { channelChecks, enabledAccounts } from "./channels.ts";
import { clockCheck, observeDates } from "./clock.ts";
import { comfyuiChecks } from "./comfyui.ts";
import { storeChecks } from "./store.ts";
import { dataDirChecks, nodeVersionCheck } from "./system.ts";

export function configCheck(loaded: Pick<LoadedConfig, "source">, plugins: string[]): DoctorCheck {
  const from = loaded.source ?? "no file (defaults and environment)";
  const extra = plugins.length ? `; plugins: ${plugins.join(", ")}` : "";
  return { id: "config", title: "Configuration", status: "ok", detail: `${from} is valid${extra}` };
}

export async function runDoctor(loaded: LoadedConfig, plugins: string[] = []): Promise<DoctorCheck[]> {
  const { config, env } = loaded;
  const dates = observeDates();
  // A throwaway store for clients that keep state (WeChat's token cache): doctor must not touch the real one.
  const scratch = await openStore(":memory:");
  try {
    const log = createLogger("silent");
    const accounts = enabledAccounts(config);
    const targets = agentTargets(config, accounts);
    const [dataDir, store, agents, comfyui, channels] = await Promise.all([
      dataDirChecks(config.dataDir),
      storeChecks(databaseUrl(config)),
      Promise.all(targets.map((t, i) => agentChecks(t, config, i))),
      comfyuiChecks(config, env),
      channelChecks(config, env, scratch, log),
    ]);
    return [
      configCheck(loaded, plugins),
      nodeVersionCheck(),
      ...dataDir,
      ...store,
      ...agents.flat(),
      ...comfyui,
      ...channels,
      clockCheck(
        dates.samples,
        accounts.map((a) => a.channel),
      ),
    ];
  } finally {
    dates.stop();
    await scratch.close();
  }
}
