// One heartbeat for all the leases a process holds in one store: every LeaseKeeper of an (owner, store) pair joins
// it, and each tick renews all of them with one renewLeases write per TTL. A thousand pollers then cost one write
// every few seconds instead of up to a thousand per third of a TTL — on SQLite, whenever their timers fell due in
// different event-loop turns (a slow start spreads them), each was its own fsync blocking the event loop, as the
// group commit only merges writes of one turn.
import type { Store } from "../store/types.ts";

export type RenewStore = Pick<Store, "renewLeases">;

/** One held lease, as the keeper that holds it wants to hear about its renewals. */
export interface RenewalMember {
  readonly name: string;
  readonly ttlMs: number;
  /** A renewal sent at `sentAt` confirmed the lease. */
  renewed(sentAt: number): void;
  /** The renewal found the lease no longer ours (`err` unset) or failed. */
  lost(err?: Error): void;
}

const everyFor = (m: RenewalMember) => Math.max(50, Math.floor(m.ttlMs / 3));

const schedules = new WeakMap<RenewStore, Map<string, LeaseRenewals>>();

export class LeaseRenewals {
  readonly #store: RenewStore;
  readonly #owner: string;
  readonly #members = new Set<RenewalMember>();
  #timer: NodeJS.Timeout | undefined;
  #everyMs = 0;
  #lastTick = 0;

  private constructor(store: RenewStore, owner: string) {
    this.#store = store;
    this.#owner = owner;
  }

  /** The heartbeat shared by every lease `owner` holds in `store`. */
  static for(store: RenewStore, owner: string): LeaseRenewals {
    let byOwner = schedules.get(store);
    if (!byOwner) {
      byOwner = new Map();
      schedules.set(store, byOwner);
    }
    let r = byOwner.get(owner);
    if (!r) {
      r = new LeaseRenewals(store, owner);
      byOwner.set(owner, r);
    }
    return r;
  }

  add(m: RenewalMember) {
    this.#members.add(m);
    if (this.#everyMs === 0 || everyFor(m) < this.#everyMs) this.#reschedule();
  }

  delete(m: RenewalMember) {
    if (this.#members.delete(m) && (this.#members.size === 0 || everyFor(m) === this.#everyMs))
      this.#reschedule();
  }

  get size(): number {
    return this.#members.size;
  }

  // Every lease is renewed at least every third of its own TTL: the tick follows the shortest one held. Renewing
  // a longer lease more often than it needs costs nothing extra, it shares the tick's write. The next tick is
  // counted from the last one, so keepers coming and going (changing the period) can never keep pushing it away.
  #reschedule() {
    let everyMs = 0;
    for (const m of this.#members) everyMs = everyMs === 0 ? everyFor(m) : Math.min(everyMs, everyFor(m));
    if (everyMs === this.#everyMs) return;
    if (this.#everyMs === 0) this.#lastTick = Date.now();
    this.#everyMs = everyMs;
    this.#arm();
  }

  #arm() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#everyMs === 0) return;
    this.#timer = setTimeout(
      () => {
        this.#lastTick = Date.now();
        this.#tick();
        this.#arm();
      },
      Math.max(0, this.#lastTick + this.#everyMs - Date.now()),
    );
    this.#timer.unref();
  }

  #tick() {
    const byTtl = new Map<number, RenewalMember[]>();
    for (const m of this.#members) {
      const group = byTtl.get(m.ttlMs);
      if (group) group.push(m);
      else byTtl.set(m.ttlMs, [m]);
    }
    for (const [ttlMs, group] of byTtl) void this.#renew(ttlMs, group);
  }

  async #renew(ttlMs: number, group: RenewalMember[]) {
    const sentAt = Date.now();
    let held: Set<string>;
    try {
      held = await this.#store.renewLeases(
        group.map((m) => m.name),
        this.#owner,
        ttlMs,
      );
    } catch (err) {
      for (const m of group) m.lost(err as Error);
      return;
    }
    for (const m of group) {
      if (held.has(m.name)) m.renewed(sentAt);
      else m.lost();
    }
  }
}
