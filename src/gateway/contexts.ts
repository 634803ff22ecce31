// What the gateway hands to channels (ChannelContext) and to command handlers and targets (GatewayServices).
import type { ChannelContext } from "../channels/types.ts";
import { isAdmin } from "../core/policy.ts";
import { VERSION } from "../version.ts";
import type { Gateway } from "./gateway.ts";
import type { ExtensionHost, StatusProvider } from "./host.ts";
import type { GatewayServices } from "./services.ts";

export function channelContextOf(gw: Gateway): ChannelContext {
  return {
    log: gw.log,
    store: gw.store,
    config: gw.config,
    env: gw.env,
    owner: gw.owner,
    commandList: () => gw.commands.list().map((c) => ({ name: c.name, description: c.description })),
    isActionValue: (value) => gw.actions.resolve(value) !== undefined,
    publishMedia: (item, address) => gw.media.publish(item, address),
    deliver: (address, message, key) => gw.deliver(address, message, key, { record: false }),
    ingest: (event) => gw.ingest(event),
    cancelReply: (sessionKey) => gw.cancelReply(sessionKey),
    awaitReply: (eventId, timeoutMs) => gw.waiters.wait(eventId, timeoutMs),
  };
}

/** The host an extension gets: the gateway's registries and the registration points, nothing else. */
export function hostOf(
  gw: Gateway,
  parts: Pick<ExtensionHost, "adminRoutes" | "status" | "trustGate" | "targetDecorators" | "inbound">,
): ExtensionHost {
  return {
    ...parts,
    log: gw.log,
    config: gw.config,
    env: gw.env,
    owner: gw.owner,
    services: gw.services,
    kv: gw.store,
    leases: gw.store,
    commands: gw.commands,
    actions: gw.actions,
    routes: gw.router,
    url: () => gw.url,
  };
}

export function servicesOf(gw: Gateway, statusProviders: StatusProvider[]): GatewayServices {
  const policy = gw.config.policy;
  return {
    config: gw.config,
    env: gw.env,
    log: gw.log,
    store: gw.store,
    media: gw.media,
    commands: gw.commands,
    actions: gw.actions,
    startedAt: gw.startedAt,
    version: VERSION,
    statusProviders,
    adapter: (c, a) => gw.adapter(c, a),
    adapters: () => gw.adapters(),
    targetFor: (e) => gw.targetFor(e),
    isAdmin: (channel, senderId, selfAsserted) =>
      isAdmin(
        { channel, senderId, trusted: true, selfAsserted },
        { adminUsers: policy.adminUsers, overrides: policy.overrides, allowFrom: policy.allowFrom },
      ),
    deliver: (address, message, key, opts) => gw.deliver(address, message, key, opts),
    record: async (sessionKey, role, content) => {
      await gw.store.appendMessages([{ sessionKey, role, content }]);
    },
  };
}
