// Which agent URLs a workspace may name. A web chat user (a paired device, too) chooses it, and the gateway then
// POSTs the conversation there, so it goes through the SSRF guard like any URL fetched for a chat user: public
// addresses, hosts the operator allowed (security.fetchAllowHosts, allowPrivateFetch), and the host of the
// agent the operator configured for the web chat (a second model on the same local server is the common case).
import { agentUrlFor } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { assertUrlAllowed, fetchPolicyFromConfig } from "../security/url-guard.ts";

export async function assertAgentUrlAllowed(url: string, config: Config): Promise<void> {
  const configured = new URL(agentUrlFor(config, "webchat", "default"));
  const wanted = new URL(url);
  if (wanted.hostname === configured.hostname) return;
  await assertUrlAllowed(wanted, fetchPolicyFromConfig(config));
}
