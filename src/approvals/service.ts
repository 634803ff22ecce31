// The gateway's own approvals: a request that needs an admin's yes (an untrusted /run, --approval) waits here
// with a TTL. Admins are told (with buttons where the platform has them); approve runs the registered
// executor and tells both sides; reject tells the requester the reason; expired requests are closed by a
// sweeper that holds a store lease, so one replica does it.
import type { Button, OutboundMessage } from "../channels/types.ts";
import { addressOf, type DeliveryAddress, type InboundEvent, sessionKeyOf } from "../core/event.ts";
import { addressFromSessionKey } from "../core/session-key.ts";
import type { GatewayServices } from "../gateway/services.ts";
import { type Periodic, runPeriodically } from "../runtime/periodic.ts";
import { type Approval, ApprovalStore, newApprovalId, type Requester } from "./store.ts";

/** Runs an approved request; returns the line both sides are told ("Executed: <prompt id>"). */
export type ApprovalExecutor = (approval: Approval) => Promise<string>;

export interface ApprovalOptions {
  ttlSec: number;
  /** Session keys that get every request. */
  notify: string[];
  sweepIntervalMs: number;
  owner: string;
}

const ADMINS_NS = "approval-admin-seen";
const ADMIN_SEEN_TTL_MS = 30 * 86_400_000;
const MAX_NOTIFY = 10;
const LEASE = "approvals-sweeper";

export class ApprovalService {
  readonly store: ApprovalStore;
  readonly #services: GatewayServices;
  readonly #opts: ApprovalOptions;
  readonly #executors = new Map<string, ApprovalExecutor>();
  #sweeper: Periodic | undefined;

  constructor(services: GatewayServices, opts: ApprovalOptions) {
    this.#services = services;
    this.#opts = opts;
    this.store = new ApprovalStore(services.store);
  }

  registerExecutor(kind: string, run: ApprovalExecutor) {
    this.#executors.set(kind, run);
  }

  /** Remembers where an admin talks to the gateway, so approval requests can reach them there. */
  async rememberAdmin(event: InboundEvent) {
    const key = sessionKeyOf(event);
    await this.#services.store.kvSet(ADMINS_NS, key, JSON.stringify(addressOf(event)), ADMIN_SEEN_TTL_MS);
  }

  requesterOf(event: InboundEvent): Requester {
    return {
      channel: event.channel,
      account: event.account,
      senderId: event.sender.id,
      senderName: event.sender.name,
      address: { ...addressOf(event), replyContext: undefined },
      sessionKey: sessionKeyOf(event),
    };
  }

  async create(
    kind: string,
    requester: Requester,
    summary: string,
    payload: Record<string, unknown>,
  ): Promise<Approval> {
    const now = Date.now();
    const approval: Approval = {
      id: newApprovalId(),
      kind,
      status: "pending",
      createdAt: now,
      expiresAt: now + this.#opts.ttlSec * 1000,
      requester,
      summary,
      payload,
    };
    await this.store.put(approval);
    await this.#notifyAdmins(approval);
    return approval;
  }

  buttons(id: string): Button[] {
    return [
      { label: "Approve", value: `apr:approve:${id}`, style: "primary" },
      { label: "Reject", value: `apr:reject:${id}`, style: "danger" },
    ];
  }

  /** Approve or reject; returns the answer for the admin who decided. */
  async decide(
    id: string,
    decision: "approve" | "reject",
    by: string,
    reason?: string,
  ): Promise<OutboundMessage> {
    const approval = await this.store.get(id.trim());
    if (!approval)
      return { text: `No approval ${id}. Send /approvals to see the pending ones.`, kind: "error" };
    if (approval.status !== "pending")
      return {
        text: `${approval.id} is already ${approval.status}${approval.decidedBy ? ` (by ${approval.decidedBy})` : ""}.`,
        kind: "error",
      };
    if (approval.expiresAt <= Date.now()) {
      await this.#expire(approval);
      return {
        text: `${approval.id} expired at ${iso(approval.expiresAt)}; the requester was told.`,
        kind: "error",
      };
    }
    if (!(await this.store.claimDecision(approval.id, by)))
      return { text: `${approval.id} was just decided by someone else.`, kind: "error" };
    approval.decidedAt = Date.now();
    approval.decidedBy = by;
    if (decision === "reject") {
      approval.status = "rejected";
      approval.reason = reason?.trim() || undefined;
      await this.store.put(approval);
      const why = approval.reason ? `\nReason: ${approval.reason}` : "";
      await this.#tellRequester(approval, `[Rejected] ${approval.id}: ${approval.summary}${why}`, "rejected");
      return { text: `[Rejected] ${approval.id}${why}\nThe requester was told.` };
    }
    approval.status = "approved";
    const run = this.#executors.get(approval.kind);
    try {
      if (!run) throw new Error(`nothing here can run "${approval.kind}" requests`);
      approval.result = await run(approval);
      approval.executed = true;
    } catch (err) {
      approval.result = (err as Error).message;
      approval.executed = false;
    }
    await this.store.put(approval);
    if (!approval.executed) {
      const line = `[Approved] ${approval.id} (Not Executed): ${approval.result}`;
      await this.#tellRequester(approval, `${line}\nAn admin has to run it again.`, "approved");
      return {
        text: `${line}\nRun it by hand with: ${approval.summary}`,
        kind: "error",
      };
    }
    await this.#tellRequester(
      approval,
      `[Approved] ${approval.id}: ${approval.summary}\n${approval.result}`,
      "approved",
    );
    return { text: `[Approved] ${approval.id}\n${approval.result}` };
  }

  /** Closes every pending approval past its expiry. */
  async sweep(): Promise<number> {
    const now = Date.now();
    let n = 0;
    for (const a of await this.store.list("pending")) {
      if (a.expiresAt > now) continue;
      if (await this.#expire(a)) n++;
    }
    return n;
  }

  startSweeper() {
    const leaseMs = Math.max(15_000, this.#opts.sweepIntervalMs * 3);
    this.#sweeper = runPeriodically(this.#opts.sweepIntervalMs, async () => {
      try {
        if (await this.#services.store.acquireLease(LEASE, this.#opts.owner, leaseMs)) await this.sweep();
      } catch (err) {
        this.#services.log.warn({ err: (err as Error).message }, "approval expiry sweep failed");
      }
    });
  }

  async stop() {
    // A sweep still running is not waited for (it may finish after the lease is released).
    void this.#sweeper?.stop();
    await this.#services.store.releaseLease(LEASE, this.#opts.owner).catch(() => {});
  }

  async #expire(a: Approval): Promise<boolean> {
    if (!(await this.store.claimDecision(a.id, "expiry"))) return false;
    a.status = "expired";
    a.decidedAt = Date.now();
    a.decidedBy = "expiry";
    await this.store.put(a);
    await this.#tellRequester(
      a,
      `[Expired] ${a.id}: no admin decided before ${iso(a.expiresAt)}, so this was not run: ${a.summary}\nSend it again if you still need it.`,
      "expired",
    );
    return true;
  }

  async #tellRequester(a: Approval, text: string, what: string) {
    try {
      await this.#services.deliver(
        a.requester.address,
        { text, kind: what === "approved" ? "reply" : "notice" },
        `approval:${what}:${a.id}`,
      );
    } catch (err) {
      this.#services.log.warn(
        { approval: a.id, err: (err as Error).message },
        "cannot tell the requester about an approval",
      );
    }
  }

  async #notifyAdmins(a: Approval) {
    const targets = new Map<string, DeliveryAddress>();
    for (const key of this.#opts.notify) {
      const address = addressFromSessionKey(key);
      if (address) targets.set(key, address);
      else
        this.#services.log.warn({ key }, "approval notify target is not a session key like telegram:123456");
    }
    for (const row of await this.#services.store.kvList(ADMINS_NS, { limit: 100 }))
      targets.set(row.key, JSON.parse(row.value) as DeliveryAddress);
    // The requester already has the answer to their /run in their own chat.
    targets.delete(a.requester.sessionKey);
    if (targets.size === 0) {
      this.#services.log.warn(
        { approval: a.id },
        "no admin to notify about an approval: set comfyui.approvals.notify (CLAWGATE_APPROVAL_NOTIFY) or have an admin use /approvals once",
      );
      return;
    }
    const who = a.requester.senderName
      ? `${a.requester.senderName} (${a.requester.senderId})`
      : a.requester.senderId;
    const text =
      `[Approval Requested] ${a.id}\nFrom: ${who} on ${a.requester.channel}\nRequest: ${a.summary}\nExpires: ${iso(a.expiresAt)}\n` +
      `Approve with /approve ${a.id} or reject with /reject ${a.id} [reason].`;
    for (const [key, address] of [...targets].slice(0, MAX_NOTIFY)) {
      const adapter = this.#services.adapter(address.channel, address.account);
      if (!adapter) continue;
      const message: OutboundMessage = {
        text,
        ...(adapter.capabilities.buttons ? { buttons: this.buttons(a.id) } : {}),
      };
      await this.#services.deliver(address, message, `approval:notify:${a.id}:${key}`).catch((err: Error) => {
        this.#services.log.warn(
          { approval: a.id, to: key, err: err.message },
          "cannot notify an admin about an approval",
        );
      });
    }
  }
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
