import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CommandPolicyConfig,
  classify,
  evaluateCommand,
  normalizeOverrides,
} from "../../src/core/policy.ts";

const base = (over: Partial<CommandPolicyConfig> = {}): CommandPolicyConfig => ({
  adminUsers: [],
  overrides: {},
  allowFrom: { public: [], run: [], admin: [] },
  ...over,
});
const who = (senderId: string, trusted = true) => ({ channel: "telegram", senderId, trusted });

describe("command policy (connector semantics)", () => {
  it("default classes: /help /start /status /history public, /run run, everything else admin", () => {
    const c = base();
    for (const name of ["/help", "/start", "/status", "/history"]) assert.equal(classify(name, c), "public");
    assert.equal(classify("/run", c), "run");
    for (const name of [
      "/trace",
      "/approvals",
      "/approve",
      "/reject",
      "/schedules",
      "/schedule",
      "/stop",
      "/jobs",
    ]) {
      assert.equal(classify(name, c), "admin", name);
    }
  });

  it("admin commands require OPENCLAW_CONNECTOR_ADMIN_USERS", () => {
    const c = base({ adminUsers: ["42"] });
    assert.equal(evaluateCommand("/approvals", who("42"), c).kind, "allow");
    const denied = evaluateCommand("/approvals", who("7"), c);
    assert.equal(denied.kind, "deny");
    assert.match((denied as { message: string }).message, /OPENCLAW_CONNECTOR_ADMIN_USERS/);
  });

  it("matches channel-qualified ids too", () => {
    assert.equal(evaluateCommand("/trace", who("42"), base({ adminUsers: ["telegram:42"] })).kind, "allow");
    assert.equal(evaluateCommand("/trace", who("42"), base({ adminUsers: ["slack:42"] })).kind, "deny");
  });

  it("normalizes overrides: lower-case keys, leading slash added, bad classes ignored", () => {
    assert.deepEqual(normalizeOverrides({ run: "admin", "/STATUS": "Public", "/x": "root" }), {
      "/run": "admin",
      "/status": "public",
    });
  });

  it("the seed's example: OVERRIDES run→admin, status→public; ALLOW_FROM_ADMIN alice,bob; ALLOW_FROM_RUN alice,ops_bot", () => {
    const c = base({
      overrides: normalizeOverrides({ run: "admin", "/status": "public" }),
      allowFrom: { public: [], run: ["alice_id", "ops_bot_id"], admin: ["alice_id", "bob_id"] },
    });
    // /run is now admin class: only the admin allow-from list counts.
    assert.equal(evaluateCommand("/run", who("bob_id"), c).kind, "allow");
    assert.equal(evaluateCommand("/run", who("ops_bot_id"), c).kind, "deny");
    assert.equal(evaluateCommand("/status", who("anyone", false), c).kind, "allow");
    assert.equal(evaluateCommand("/approve", who("alice_id"), c).kind, "allow");
    assert.equal(evaluateCommand("/approve", who("carol"), c).kind, "deny");
  });

  it("a non-empty allow-from list is strict, even for admins", () => {
    const c = base({ adminUsers: ["root"], allowFrom: { public: [], run: [], admin: ["alice"] } });
    const d = evaluateCommand("/approvals", who("root"), c);
    assert.equal(d.kind, "deny");
    assert.equal((d as { reason: string }).reason, "allow_from");
    const pub = base({ allowFrom: { public: ["alice"], run: [], admin: [] } });
    assert.equal(evaluateCommand("/help", who("bob"), pub).kind, "deny");
    assert.equal(evaluateCommand("/help", who("alice"), pub).kind, "allow");
  });

  it("untrusted senders may use public commands, and /run becomes an approval request", () => {
    const c = base();
    assert.equal(evaluateCommand("/status", who("stranger", false), c).kind, "allow");
    assert.equal(evaluateCommand("/run", who("stranger", false), c).kind, "approval");
    assert.equal(evaluateCommand("/run", who("friend", true), c).kind, "allow");
  });

  it("an admin's /run is never turned into an approval, nor is a sender on ALLOW_FROM_RUN", () => {
    assert.equal(evaluateCommand("/run", who("42", false), base({ adminUsers: ["42"] })).kind, "allow");
    const c = base({ allowFrom: { public: [], run: ["ops"], admin: [] } });
    assert.equal(evaluateCommand("/run", who("ops", false), c).kind, "allow");
    assert.equal(evaluateCommand("/run", who("other", true), c).kind, "deny");
  });

  it("unknown commands fail closed as admin", () => {
    assert.equal(evaluateCommand("/wipe", who("x"), base()).kind, "deny");
  });
});

describe("self-asserted ids (the web chat's userId)", () => {
  const claimed = { channel: "webchat", senderId: "42", trusted: true, selfAsserted: true };
  it("never match a bare admin id from another platform", () => {
    const c = base({ adminUsers: ["42"] });
    assert.equal(evaluateCommand("/approvals", claimed, c).kind, "deny");
    assert.equal(evaluateCommand("/approvals", { ...claimed, selfAsserted: false }, c).kind, "allow");
  });
  it("match channel-qualified entries, in admin and allow-from lists alike", () => {
    assert.equal(evaluateCommand("/approvals", claimed, base({ adminUsers: ["webchat:42"] })).kind, "allow");
    const strict = base({ allowFrom: { public: ["42"], run: [], admin: [] } });
    assert.equal(evaluateCommand("/help", claimed, strict).kind, "deny");
  });
});
