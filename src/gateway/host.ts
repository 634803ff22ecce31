// The API an extension gets from the gateway: a narrow, typed host instead of the Gateway class. Built-in
// features (ComfyUI, approvals, schedules, pairing, bridge, async callbacks) and outside plugins use only this.
import type { Logger } from "pino";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import type { InboundEvent } from "../core/event.ts";
import type { AdminRouteRegistry } from "../http/admin-routes.ts";
import type { Router } from "../http/router.ts";
import type { KvStore, LeaseStore } from "../store/facets.ts";
import type { Target } from "../targets/types.ts";
import type { ActionRegistry } from "./actions.ts";
import type { CommandRegistry } from "./commands.ts";
import type { InboundObserver } from "./inbound-observers.ts";
import type { GatewayServices, TrustGate } from "./services.ts";

/** Wraps the target chosen for a conversation (async agent mode returns a callback-driven copy of it). */
export type TargetDecorator = (event: InboundEvent, chosen: Target) => Target;

/** One more line for /status, or undefined when there is nothing to say. */
export type StatusProvider = () => Promise<string | undefined>;

/** Registers HTTP routes on the gateway's main listener (the kind is declared by the route or judged by its path). */
export type RouteRegistry = Pick<Router, "add">;

export type { AdminRouteRegistry, KvStore, LeaseStore };

export interface ExtensionHost {
  readonly log: Logger;
  readonly config: Config;
  readonly env: Env;
  /** This process's id in leases and queue claims (`<pid>-<random>`). */
  readonly owner: string;
  /** What command handlers and targets use: deliver, record, adapters, targetFor, isAdmin … */
  readonly services: GatewayServices;
  /** Key-value entries with expiry, shared by every replica (the store's kv table). */
  readonly kv: KvStore;
  /** Named leases, for work that must run in one replica at a time. */
  readonly leases: LeaseStore;
  /** Chat commands (`/name`), with the command policy applied by the pipeline before a handler runs. */
  readonly commands: CommandRegistry;
  /** Button values a command's reply offers, resolved when pressed. */
  readonly actions: ActionRegistry;
  /** Routes on the main listener (webhooks, browser pages, bearer-token APIs). */
  readonly routes: RouteRegistry;
  /** Routes under /admin/api guarded by the admin token. */
  readonly adminRoutes: AdminRouteRegistry;
  /** Extra lines for the /status chat command. */
  readonly status: { add(provider: StatusProvider): void };
  /** Decides about senders a channel does not trust (default: the channel's dmPolicy; DM pairing replaces it). */
  readonly trustGate: { set(gate: TrustGate): void };
  /** Decorators applied, in registration order, to the target chosen for each conversation. */
  readonly targetDecorators: { add(decorator: TargetDecorator): void };
  /** Observers of every incoming message (addressed or not); what they return commits with its completion. */
  readonly inbound: { observe(observer: InboundObserver): void };
  /** The main listener's URL (only once the gateway has started: call it when handling, not during setup). */
  url(): string;
}

/** A module that extends the gateway: registers commands, routes, status lines through the host. */
export interface GatewayExtension {
  name: string;
  setup(host: ExtensionHost): Promise<void> | void;
  stop?(): Promise<void> | void;
}
