// Runs schedules. One replica holds the "scheduler" lease and checks due schedules every tickMs; each due tick
// is claimed in the store before it fires, so a tick fires once even if the lease changes hands or the
// gateway restarts mid-tick (a crash between claim and submit loses that one tick rather than doubling it).
// Ticks missed while no gateway ran fire once, not once per missed tick.
import { addressFromSessionKey } from "../core/session-key.ts";
import type { GatewayServices } from "../gateway/services.ts";
import { type Periodic, runPeriodically } from "../runtime/periodic.ts";
import { newScheduleId, type Schedule, ScheduleStore } from "./store.ts";
import { nextTickAfter, validateCron } from "./timing.ts";

export interface SchedulerOptions {
  owner: string;
  tickMs: number;
  /** Submits the schedule's job; returns its id. */
  fire(schedule: Schedule, tickAt: number): Promise<string>;
  /** Checks template and inputs when a schedule is created; throws a readable error. */
  validate(template: string, inputs: Record<string, string>): Promise<unknown>;
}

export interface NewSchedule {
  template: string;
  inputs?: Record<string, string>;
  target: string;
  cron?: string;
  timezone?: string;
  everySec?: number;
  createdBy?: string;
}

const LEASE = "scheduler";

export class Scheduler {
  readonly store: ScheduleStore;
  readonly #services: GatewayServices;
  readonly #opts: SchedulerOptions;
  #ticker: Periodic | undefined;
  #stopped = false;

  constructor(services: GatewayServices, opts: SchedulerOptions) {
    this.#services = services;
    this.#opts = opts;
    this.store = new ScheduleStore(services.store);
  }

  async add(input: NewSchedule): Promise<Schedule> {
    if (!input.cron === !input.everySec)
      throw new Error("give either a cron expression or an interval (every), not both");
    if (input.cron) validateCron(input.cron, input.timezone);
    const deliverTo = addressFromSessionKey(input.target);
    if (!deliverTo)
      throw new Error(
        `target "${input.target}" is not a session key like telegram:123456 or webchat:default:<thread>`,
      );
    if (!this.#services.adapter(deliverTo.channel, deliverTo.account))
      throw new Error(
        `no channel ${deliverTo.channel}/${deliverTo.account} is configured for target ${input.target}`,
      );
    const inputs = input.inputs ?? {};
    await this.#opts.validate(input.template, inputs);
    const now = Date.now();
    const s: Schedule = {
      id: newScheduleId(),
      template: input.template,
      inputs,
      target: input.target,
      deliverTo,
      cron: input.cron,
      timezone: input.timezone,
      everySec: input.everySec,
      anchorAt: now,
      paused: false,
      createdAt: now,
      createdBy: input.createdBy,
      runs: 0,
    };
    s.nextRunAt = nextTickAfter(s, now);
    await this.store.put(s);
    return s;
  }

  async setPaused(id: string, paused: boolean): Promise<Schedule | undefined> {
    const s = await this.store.get(id);
    if (!s) return undefined;
    s.paused = paused;
    // Resuming starts from now: ticks that fell while paused are skipped.
    if (!paused) s.nextRunAt = nextTickAfter(s, Date.now());
    await this.store.put(s);
    return s;
  }

  /** Fires a schedule now, outside its timing (does not move its next tick). */
  async runNow(id: string): Promise<{ schedule: Schedule; promptId: string } | undefined> {
    const s = await this.store.get(id);
    if (!s) return undefined;
    const promptId = await this.#opts.fire(s, Date.now());
    await this.#update(s.id, (cur) => {
      cur.lastPromptId = promptId;
      cur.lastError = undefined;
      cur.runs++;
    });
    return { schedule: s, promptId };
  }

  start() {
    const leaseMs = Math.max(15_000, this.#opts.tickMs * 5);
    this.#ticker = runPeriodically(this.#opts.tickMs, async () => {
      try {
        if (await this.#services.store.acquireLease(LEASE, this.#opts.owner, leaseMs)) await this.runDue();
      } catch (err) {
        this.#services.log.warn({ err: (err as Error).message }, "scheduler pass failed");
      }
    });
  }

  async stop() {
    this.#stopped = true;
    await this.#ticker?.stop();
    await this.#services.store.releaseLease(LEASE, this.#opts.owner).catch(() => {});
  }

  /** Fires every due tick once. */
  async runDue(now = Date.now()) {
    for (const s of await this.store.list()) {
      if (this.#stopped) return;
      if (s.paused || s.nextRunAt === undefined || s.nextRunAt > now) continue;
      const tickAt = s.nextRunAt;
      let promptId: string | undefined;
      let error: string | undefined;
      if (await this.store.claimTick(s.id, tickAt, this.#opts.owner)) {
        try {
          promptId = await this.#opts.fire(s, tickAt);
        } catch (err) {
          error = (err as Error).message;
          this.#services.log.warn({ schedule: s.id, err: error }, "a scheduled run failed");
          await this.#services
            .deliver(
              s.deliverTo,
              { text: `⚠️ Schedule ${s.id} (${s.template}) could not run: ${error}`, kind: "error" },
              `schedule:error:${s.id}:${tickAt}`,
            )
            .catch(() => {});
        }
      }
      await this.#update(s.id, (cur) => {
        if (cur.nextRunAt !== tickAt) return; // someone (resume) moved it meanwhile
        cur.lastRunAt = tickAt;
        if (promptId) {
          cur.lastPromptId = promptId;
          cur.lastError = undefined;
          cur.runs++;
        } else if (error) cur.lastError = error;
        cur.nextRunAt = nextTickAfter(cur, Math.max(now, tickAt));
      });
    }
  }

  async #update(id: string, change: (s: Schedule) => void) {
    const cur = await this.store.get(id);
    if (!cur) return;
    change(cur);
    await this.store.put(cur);
  }
}
