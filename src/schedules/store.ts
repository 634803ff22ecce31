// Schedules in the store's kv, and the tick claims that make each tick fire once across restarts and replicas.
import { randomBytes } from "node:crypto";
import type { DeliveryAddress } from "../core/event.ts";
import type { Store } from "../store/types.ts";

const NS = "schedule";
const TICKS = "schedule-tick";
const TICK_KEEP_MS = 30 * 86_400_000;

export interface Schedule {
  id: string;
  template: string;
  /** k=v as given; resolved at every tick, so seed=-1 is a new random seed each time. */
  inputs: Record<string, string>;
  /** Session key of the chat that gets the results (telegram:123456, webchat:default:abc). */
  target: string;
  deliverTo: DeliveryAddress;
  cron?: string;
  timezone?: string;
  everySec?: number;
  anchorAt: number;
  paused: boolean;
  createdAt: number;
  createdBy?: string;
  nextRunAt?: number;
  lastRunAt?: number;
  lastPromptId?: string;
  lastError?: string;
  runs: number;
}

export function newScheduleId(): string {
  return `sch_${randomBytes(6).toString("hex")}`;
}

export class ScheduleStore {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async get(id: string): Promise<Schedule | undefined> {
    const raw = await this.#store.kvGet(NS, id.trim());
    return raw ? (JSON.parse(raw) as Schedule) : undefined;
  }

  async put(s: Schedule) {
    await this.#store.kvSet(NS, s.id, JSON.stringify(s));
  }

  async remove(id: string): Promise<boolean> {
    const had = await this.get(id);
    await this.#store.kvDelete(NS, id);
    return Boolean(had);
  }

  async list(): Promise<Schedule[]> {
    return (await this.#store.kvList(NS, { limit: 1000 }))
      .map((r) => JSON.parse(r.value) as Schedule)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** True for exactly one caller per (schedule, tick time), whichever process or restart asks. */
  async claimTick(id: string, tickAt: number, owner: string): Promise<boolean> {
    return this.#store.kvSetIfAbsent(TICKS, `${id}:${tickAt}`, owner, TICK_KEEP_MS);
  }
}
