// The store contract: every implementation must pass these. Call with a factory for a fresh, empty store.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../../src/store/types.ts";

const item = (id: string, sessionKey: string, n = 0) => ({
  id,
  sessionKey,
  payload: JSON.stringify({ id, n }),
  receivedAt: Date.now(),
});

/** A delivery into conversation `sessionKey` (of telegram unless said). */
const out = (idempotencyKey: string, sessionKey: string, channel = "telegram") => ({
  idempotencyKey,
  sessionKey,
  channel,
  account: "bot",
  payload: "{}",
});

export function storeContract(name: string, makeStore: () => Promise<Store>) {
  describe(`store contract: ${name}`, () => {
    it("enqueues inbound idempotently by event id", async () => {
      const s = await makeStore();
      try {
        assert.equal(await s.enqueueInbound(item("e1", "a")), "inserted");
        assert.equal(await s.enqueueInbound(item("e1", "a")), "duplicate");
        const [r1, r2] = await Promise.all([
          s.enqueueInbound(item("e2", "a")),
          s.enqueueInbound(item("e2", "a")),
        ]);
        assert.deepEqual([r1, r2].sort(), ["duplicate", "queued"], "e2 waits behind e1 in lane a");
        assert.equal(await s.enqueueInbound(item("e3", "b")), "inserted", "e3 opens lane b");
        assert.equal((await s.inboxStats()).pending, 3);
      } finally {
        await s.close();
      }
    });

    it("an event stored under its former id is a duplicate under its new one", async () => {
      const s = await makeStore();
      try {
        assert.equal(await s.enqueueInbound(item("old-form", "a")), "inserted");
        assert.equal(await s.enqueueInbound({ ...item("new-form", "a"), alias: "old-form" }), "duplicate");
        assert.equal(await s.getInbound("new-form"), undefined);
        // In one batch too, and an alias nobody stored is no obstacle.
        const [known, fresh] = await Promise.all([
          s.enqueueInbound({ ...item("new-form", "a"), alias: "old-form" }),
          s.enqueueInbound({ ...item("other-new", "b"), alias: "never-stored" }),
        ]);
        assert.deepEqual([known, fresh], ["duplicate", "inserted"]);
        assert.equal((await s.inboxStats()).pending, 2);
      } finally {
        await s.close();
      }
    });

    it("hands out one item per lane, in order, and the next only after completion", async () => {
      const s = await makeStore();
      try {
        for (let i = 0; i < 3; i++) await s.enqueueInbound(item(`a${i}`, "lane-a", i));
        await s.enqueueInbound(item("b0", "lane-b"));
        const first = await s.claimInbound({ owner: "w1", leaseMs: 10_000, limit: 10 });
        assert.deepEqual(first.map((x) => x.id).sort(), ["a0", "b0"]);
        assert.equal((await s.claimInbound({ owner: "w2", leaseMs: 10_000, limit: 10 })).length, 0);
        assert.equal(await s.completeInbound("a0", "w1"), true);
        const next = await s.claimInbound({ owner: "w2", leaseMs: 10_000, limit: 10 });
        assert.deepEqual(
          next.map((x) => x.id),
          ["a1"],
        );
        assert.equal(next[0]!.attempts, 1);
      } finally {
        await s.close();
      }
    });

    it("refuses completion by a worker that lost its lease, and re-offers expired leases", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("x", "l"));
        const [claimed] = await s.claimInbound({ owner: "w1", leaseMs: 1, limit: 1 });
        assert.ok(claimed);
        await new Promise((r) => setTimeout(r, 15));
        const [again] = await s.claimInbound({ owner: "w2", leaseMs: 10_000, limit: 1 });
        assert.equal(again?.id, "x");
        assert.equal(again?.attempts, 2);
        assert.equal(await s.completeInbound("x", "w1"), false, "stale owner must not complete");
        assert.equal(await s.completeInbound("x", "w2"), true);
        assert.equal((await s.getInbound("x"))?.state, "done");
      } finally {
        await s.close();
      }
    });

    it("judges completions issued together each on its own lease: a lost lease applies nothing, the other commits", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("x", "webchat:default:x"));
        await s.claimInbound({ owner: "w1", leaseMs: 1, limit: 1 });
        await new Promise((r) => setTimeout(r, 15));
        const [taken] = await s.claimInbound({ owner: "w2", leaseMs: 10_000, limit: 1 });
        assert.equal(taken?.id, "x", "w1's lease expired and w2 took x");
        await s.enqueueInbound(item("y", "webchat:default:y"));
        const [mine] = await s.claimInbound({ owner: "w1", leaseMs: 10_000, limit: 1 });
        assert.equal(mine?.id, "y");
        const effects = (id: string) => ({
          messages: [
            { sessionKey: `webchat:default:${id}`, role: "assistant" as const, content: `answer ${id}` },
          ],
          outbox: [
            {
              idempotencyKey: `reply:${id}`,
              sessionKey: `webchat:default:${id}`,
              channel: "webchat",
              account: "default",
              payload: `{"text":"answer ${id}"}`,
            },
          ],
        });
        // Both in the same turn, so a store that groups commits puts them in one transaction.
        const results = await Promise.all([
          s.completeInbound("x", "w1", effects("x")),
          s.completeInbound("y", "w1", effects("y")),
        ]);
        assert.deepEqual(results, [false, true]);
        const x = await s.getInbound("x");
        assert.equal(x?.state, "leased");
        assert.equal(x?.leaseOwner, "w2");
        assert.equal((await s.getInbound("y"))?.state, "done");
        assert.equal(await s.findOutboundByKey("reply:x"), undefined);
        assert.equal((await s.findOutboundByKey("reply:y"))?.payload, `{"text":"answer y"}`);
        assert.deepEqual(await s.listMessages("webchat:default:x"), []);
        assert.deepEqual(
          (await s.listMessages("webchat:default:y")).map((m) => m.content),
          ["answer y"],
        );
      } finally {
        await s.close();
      }
    });

    it("applies completion effects atomically: history, outbox and kv", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("m1", "webchat:default:t1"));
        await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 });
        const ok = await s.completeInbound("m1", "w", {
          messages: [
            { sessionKey: "webchat:default:t1", role: "user", content: "hi", eventId: "m1" },
            { sessionKey: "webchat:default:t1", role: "assistant", content: "hello", eventId: "m1" },
          ],
          outbox: [
            {
              idempotencyKey: "reply:m1",
              sessionKey: "webchat:default:t1",
              channel: "webchat",
              account: "default",
              payload: "{}",
              eventId: "m1",
            },
          ],
          kv: [{ namespace: "n", key: "k", value: "v" }],
        });
        assert.equal(ok, true);
        const msgs = await s.listMessages("webchat:default:t1");
        assert.deepEqual(
          msgs.map((m) => [m.role, m.content]),
          [
            ["user", "hi"],
            ["assistant", "hello"],
          ],
        );
        assert.equal((await s.findOutboundByKey("reply:m1"))?.state, "pending");
        assert.equal(await s.kvGet("n", "k"), "v");
      } finally {
        await s.close();
      }
    });

    it("applies a completion's effects as written one by one: generations, parts, repeated keys, a second session", async () => {
      const s = await makeStore();
      try {
        const t = "webchat:default:gen";
        await s.appendMessages([{ sessionKey: t, role: "user", content: "before the reset" }]);
        await s.resetSession(t);
        await s.enqueueOutbound({
          idempotencyKey: "reply:known",
          sessionKey: t,
          channel: "webchat",
          account: "default",
          payload: "first",
        });
        await s.enqueueInbound(item("e1", t));
        await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 });
        const parts = [{ type: "image" as const, mediaId: "m-1", mime: "image/png", name: "a.png" }];
        const ok = await s.completeInbound("e1", "w", {
          messages: [
            {
              sessionKey: t,
              role: "user",
              content: "a photo",
              eventId: "e1",
              author: "Ann",
              parts,
              createdAt: 1000,
            },
            {
              sessionKey: "webchat:default:other",
              role: "system",
              content: "noted elsewhere",
              createdAt: 1500,
            },
            { sessionKey: t, role: "assistant", content: "x".repeat(300), eventId: "e1", createdAt: 2000 },
          ],
          outbox: ["reply:known", "reply:new", "reply:new"].map((idempotencyKey, i) => ({
            idempotencyKey,
            sessionKey: t,
            channel: "webchat",
            account: "default",
            payload: `second ${i}`,
            eventId: "e1",
          })),
          kv: [
            { namespace: "n", key: "k", value: "old" },
            { namespace: "n", key: "k", value: "new", ttlMs: 60_000 },
            { namespace: "n", key: "forever", value: "v", ttlMs: 0 },
          ],
        });
        assert.equal(ok, true);
        const session = await s.getSession(t);
        assert.equal(session?.generation, 2);
        const now = await s.listMessages(t, { generation: 2 });
        assert.deepEqual(
          now.map((m) => [m.role, m.content.length, m.eventId, m.author, m.generation]),
          [
            ["user", 7, "e1", "Ann", 2],
            ["assistant", 300, "e1", null, 2],
          ],
          "both messages in the session's current generation, in order",
        );
        assert.deepEqual(now[0]?.parts, parts);
        assert.equal(now[1]?.parts, null);
        assert.equal((await s.listMessages(t)).length, 3, "the earlier generation's message is kept");
        assert.equal(session?.lastMessage, "x".repeat(200), "the session shows its last message, cut");
        assert.equal(session?.updatedAt, 2000);
        assert.deepEqual(
          (await s.listMessages("webchat:default:other")).map((m) => m.content),
          ["noted elsewhere"],
        );
        assert.equal(
          (await s.findOutboundByKey("reply:known"))?.payload,
          "first",
          "a known key is not replaced",
        );
        assert.equal(
          (await s.findOutboundByKey("reply:new"))?.payload,
          "second 1",
          "the first of a repeated key wins",
        );
        assert.equal(await s.kvGet("n", "k"), "new", "the last write of a key wins");
        assert.equal(await s.kvGet("n", "forever"), "v");
        assert.equal((await s.listOutbound({ sessionKey: t })).length, 2);
      } finally {
        await s.close();
      }
    });

    it("sessionHistory: creates and titles a session, then reads the current generation's newest turns in order", async () => {
      const s = await makeStore();
      try {
        const fresh = await s.sessionHistory("w:d:h", { title: "First words", last: 4 });
        assert.equal(fresh.session.title, "First words");
        assert.deepEqual(fresh.messages, []);
        await s.appendMessages([{ sessionKey: "w:d:h", role: "user", content: "old generation" }]);
        await s.resetSession("w:d:h");
        const parts = [{ type: "image" as const, mediaId: "p", mime: "image/png" }];
        await s.appendMessages(
          Array.from({ length: 6 }, (_, i) => ({
            sessionKey: "w:d:h",
            role: (i % 2 ? "assistant" : "user") as "assistant" | "user",
            content: `m${i} it's "quoted" \\ ünï`,
            eventId: `e${i}`,
            ...(i === 5 ? { parts } : {}),
          })),
        );
        const { session, messages } = await s.sessionHistory("w:d:h", { title: "ignored", last: 3 });
        assert.equal(session.generation, 2);
        assert.equal(session.title, "First words", "an existing title is kept");
        assert.deepEqual(messages, await s.listMessages("w:d:h", { generation: 2, last: 3 }));
        assert.deepEqual(
          messages.map((m) => m.eventId),
          ["e3", "e4", "e5"],
        );
        assert.deepEqual(messages[2]?.parts, parts);
        assert.equal(typeof messages[0]?.id, "number");
        assert.equal(typeof messages[0]?.createdAt, "number");
        assert.deepEqual((await s.sessionHistory("w:d:h", { last: 0 })).messages, []);
        await s.touchSession("w:d:untitled");
        assert.equal(
          (await s.sessionHistory("w:d:untitled", { title: "Now titled", last: 2 })).session.title,
          "Now titled",
        );
      } finally {
        await s.close();
      }
    });

    it("retries with backoff and dead-letters; an operator can retry a dead item", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("f", "l"));
        await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 });
        await s.failInbound("f", "w", "boom", { retryAt: Date.now() + 60_000 });
        assert.equal(
          (await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 })).length,
          0,
          "not before retryAt",
        );
        const it1 = await s.getInbound("f");
        assert.equal(it1?.state, "pending");
        assert.equal(it1?.lastError, "boom");
        await s.enqueueInbound(item("g", "l"));
        assert.equal(
          (await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 5 })).length,
          0,
          "a waiting retry blocks its lane so order is kept",
        );
        assert.equal(await s.retryInbound("f"), false, "only dead items can be retried by hand");
        assert.equal(
          await s.failInbound("f", "nobody", "x", { dead: true }),
          false,
          "only the lease owner may fail it",
        );
      } finally {
        await s.close();
      }
    });

    it("dead-letters and lets an operator put the item back", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("d", "l"));
        await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 });
        assert.equal(await s.failInbound("d", "w", "agent said 400", { dead: true }), true);
        assert.deepEqual(
          (await s.listInbound({ state: "dead" })).map((x) => x.id),
          ["d"],
        );
        assert.equal((await s.inboxStats()).dead, 1);
        assert.equal(await s.retryInbound("d"), true);
        assert.equal((await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 1 }))[0]?.id, "d");
      } finally {
        await s.close();
      }
    });

    it("lanes: a backlog queued behind an item in flight is neither handed out nor in the way of other lanes", async () => {
      const s = await makeStore();
      try {
        assert.equal(await s.enqueueInbound(item("busy0", "busy")), "inserted");
        const [head] = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 8 });
        assert.equal(head?.id, "busy0");
        const queued = await Promise.all(
          Array.from({ length: 300 }, (_, i) => s.enqueueInbound(item(`busy${i + 1}`, "busy", i + 1))),
        );
        assert.ok(
          queued.every((r) => r === "queued"),
          "every event behind the one in flight is queued",
        );
        assert.deepEqual(await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 8 }), []);
        assert.equal(await s.enqueueInbound(item("quiet0", "quiet")), "inserted");
        assert.deepEqual(
          (await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 8 })).map((x) => x.id),
          ["quiet0"],
          "a new lane is served while the busy one stays blocked",
        );
        // The busy lane drains in order, one at a time, each failure keeping its place.
        const seen: string[] = [];
        for (let i = 0; i <= 300; i++) {
          const id = `busy${i}`;
          if (i === 7) {
            await s.failInbound(id, "w", "agent down", { retryAt: Date.now() - 1 });
            const [again] = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 8 });
            assert.equal(again?.id, id, "a failed item is retried before the lane moves on");
            assert.equal(again?.attempts, 2);
          }
          assert.equal(await s.completeInbound(id, "w"), true, `${id} was the one leased`);
          seen.push(id);
          const next = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 8 });
          assert.deepEqual(
            next.map((x) => x.id),
            i < 300 ? [`busy${i + 1}`] : [],
          );
        }
        assert.equal(seen.length, 301);
        assert.equal((await s.inboxStats()).done, 301);
        assert.equal(
          await s.enqueueInbound(item("busy301", "busy")),
          "inserted",
          "a drained lane opens afresh",
        );
      } finally {
        await s.close();
      }
    });

    it("lanes: a dead head lets the lane move on; a retry waits for its time and keeps its place", async () => {
      const s = await makeStore();
      try {
        for (const id of ["h", "n1", "n2"]) await s.enqueueInbound(item(id, "l"));
        await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 4 });
        assert.equal(await s.failInbound("h", "w", "bad request", { dead: true }), true);
        const [n1] = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 4 });
        assert.equal(n1?.id, "n1");
        await s.failInbound("n1", "w", "timeout", { retryAt: Date.now() + 40 });
        assert.deepEqual(await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 4 }), []);
        await new Promise((r) => setTimeout(r, 60));
        assert.deepEqual(
          (await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 4 })).map((x) => x.id),
          ["n1"],
        );
      } finally {
        await s.close();
      }
    });

    it("keeps a lane closed while a later item is leased, even when an operator revives an earlier one", async () => {
      const s = await makeStore();
      try {
        await s.enqueueInbound(item("first", "lane"));
        await s.enqueueInbound(item("second", "lane"));
        await s.claimInbound({ owner: "w", leaseMs: 30_000, limit: 5 });
        await s.failInbound("first", "w", "agent said 400", { dead: true });
        const [second] = await s.claimInbound({ owner: "w", leaseMs: 30_000, limit: 5 });
        assert.equal(second?.id, "second");
        assert.equal(await s.retryInbound("first"), true);
        assert.deepEqual(await s.claimInbound({ owner: "w2", leaseMs: 30_000, limit: 5 }), []);
        await s.completeInbound("second", "w");
        assert.equal((await s.claimInbound({ owner: "w2", leaseMs: 30_000, limit: 5 }))[0]?.id, "first");
      } finally {
        await s.close();
      }
    });

    it("keeps concurrent claimers from taking the same item", async () => {
      const s = await makeStore();
      try {
        for (let i = 0; i < 40; i++) await s.enqueueInbound(item(`c${i}`, `lane${i}`));
        const results = await Promise.all(
          Array.from({ length: 4 }, (_, w) => s.claimInbound({ owner: `w${w}`, leaseMs: 10_000, limit: 15 })),
        );
        const ids = results.flat().map((x) => x.id);
        assert.equal(new Set(ids).size, ids.length, "no item claimed twice");
        assert.equal(ids.length, 40);
      } finally {
        await s.close();
      }
    });

    it("outbox: idempotency keys, lanes, completion with result, failure with retry", async () => {
      const s = await makeStore();
      try {
        const base = { sessionKey: "tg:default:1", channel: "telegram", account: "default", payload: "{}" };
        const a = await s.enqueueOutbound({ ...base, idempotencyKey: "k1" });
        const b = await s.enqueueOutbound({ ...base, idempotencyKey: "k1" });
        assert.equal(a.inserted, true);
        assert.equal(b.inserted, false);
        assert.equal(a.id, b.id);
        await s.enqueueOutbound({ ...base, idempotencyKey: "k2" });
        await s.enqueueOutbound({
          ...base,
          sessionKey: "slack:default:C1",
          channel: "slack",
          idempotencyKey: "k3",
        });
        const onlyTelegram = await s.claimOutbound({
          owner: "o",
          leaseMs: 10_000,
          limit: 10,
          channels: ["telegram"],
        });
        assert.deepEqual(
          onlyTelegram.map((x) => x.idempotencyKey),
          ["k1"],
        );
        assert.equal(await s.extendOutboundLease(a.id, "o", 10_000), true);
        assert.equal(
          await s.extendOutboundLease(a.id, "someone-else", 10_000),
          false,
          "only the holder extends",
        );
        assert.equal(await s.completeOutbound(a.id, "o", JSON.stringify({ messageId: "99" })), true);
        assert.equal(await s.extendOutboundLease(a.id, "o", 10_000), false, "nothing to extend once done");
        assert.equal((await s.getOutbound(a.id))?.result, JSON.stringify({ messageId: "99" }));
        const [k2] = await s.claimOutbound({
          owner: "o",
          leaseMs: 10_000,
          limit: 10,
          channels: ["telegram"],
        });
        assert.equal(k2?.idempotencyKey, "k2");
        await s.failOutbound(k2!.id, "o", "429", { retryAt: Date.now() + 60_000 });
        assert.equal(
          (await s.claimOutbound({ owner: "o", leaseMs: 10_000, limit: 10, channels: ["telegram"] })).length,
          0,
        );
        const stats = await s.outboxStats();
        assert.equal(stats.done, 1);
        assert.equal(stats.pending, 2);
      } finally {
        await s.close();
      }
    });

    it("outbox: a dead delivery goes back to pending by hand, keeping its key; nothing else moves", async () => {
      const s = await makeStore();
      try {
        const base = { sessionKey: "tg:default:9", channel: "telegram", account: "default", payload: "{}" };
        const dead = await s.enqueueOutbound({ ...base, idempotencyKey: "reply:e1:0" });
        const [claimed] = await s.claimOutbound({ owner: "o", leaseMs: 10_000, limit: 1 });
        assert.equal(await s.retryOutbound(dead.id), false, "a leased delivery is not dead");
        assert.equal(await s.failOutbound(claimed!.id, "o", "403 bot was blocked", { dead: true }), true);
        assert.deepEqual(
          (await s.listOutbound({ state: "dead" })).map((x) => x.idempotencyKey),
          ["reply:e1:0"],
        );
        assert.equal(await s.retryOutbound(dead.id), true);
        assert.equal(await s.retryOutbound(dead.id), false, "already pending");
        assert.equal(await s.retryOutbound(424242), false, "no such delivery");
        const again = await s.claimOutbound({ owner: "o2", leaseMs: 10_000, limit: 1 });
        assert.equal(again[0]?.id, dead.id);
        assert.equal(again[0]?.idempotencyKey, "reply:e1:0", "the retry keeps its idempotency key");
        assert.equal((await s.outboxStats()).dead, 0);
      } finally {
        await s.close();
      }
    });

    it("outbox lanes: a conversation held behind a failing delivery, 5,000 queued behind it, is in no one's way", async () => {
      const s = await makeStore();
      try {
        const head = await s.enqueueOutbound(out("down:0", "telegram:bot:down"));
        const [claimed] = await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 });
        assert.equal(claimed?.id, head.id);
        assert.equal(await s.failOutbound(head.id, "o", "502", { retryAt: Date.now() + 600_000 }), true);
        // Answers keep coming: 5,000 deliveries planned behind it, as an inbox completion plans them.
        await s.enqueueInbound(item("answered", "telegram:bot:down"));
        await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 1 });
        const queued = Array.from({ length: 5000 }, (_, k) => out(`down:${k + 1}`, "telegram:bot:down"));
        assert.equal(await s.completeInbound("answered", "w", { outbox: queued }), true);
        assert.deepEqual(await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 }), []);
        const up = await s.enqueueOutbound(out("up:0", "telegram:bot:up"));
        const slack = await s.enqueueOutbound(out("slack:0", "slack:bot:C1", "slack"));
        assert.deepEqual(
          (await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10, channels: ["telegram"] })).map(
            (x) => x.id,
          ),
          [up.id],
          "the other telegram conversation is served; the blocked one and the slack one are not handed out",
        );
        assert.deepEqual(
          (await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10, channels: ["slack"] })).map(
            (x) => x.id,
          ),
          [slack.id],
          "a process that sends slack still finds its conversation",
        );
        assert.deepEqual(await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 }), []);
        assert.equal((await s.outboxStats()).pending, 5001);
      } finally {
        await s.close();
      }
    });

    it("outbox lanes: one order per conversation even when its deliveries are of two channels", async () => {
      const s = await makeStore();
      try {
        const first = await s.enqueueOutbound(out("m0", "mixed", "slack"));
        const second = await s.enqueueOutbound(out("m1", "mixed"));
        const telegram = { owner: "t", leaseMs: 60_000, limit: 10, channels: ["telegram"] };
        assert.deepEqual(
          await s.claimOutbound(telegram),
          [],
          "the later delivery waits behind the slack one",
        );
        assert.deepEqual(await s.claimOutbound(telegram), [], "and asking again finds nothing (no spinning)");
        const [got] = await s.claimOutbound({ owner: "s", leaseMs: 60_000, limit: 10, channels: ["slack"] });
        assert.equal(got?.id, first.id, "the slack process finds the conversation's head");
        assert.equal(await s.completeOutbound(first.id, "s", "ok"), true);
        assert.deepEqual(
          await s.claimOutbound({ owner: "s", leaseMs: 60_000, limit: 10, channels: ["slack"] }),
          [],
        );
        assert.deepEqual(
          (await s.claimOutbound(telegram)).map((x) => x.id),
          [second.id],
        );
      } finally {
        await s.close();
      }
    });

    it("outbox lanes: deliveries planned by an inbox completion are claimable, also in a lane drained before", async () => {
      const s = await makeStore();
      try {
        const early = await s.enqueueOutbound(out("early", "telegram:bot:1"));
        await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 });
        assert.equal(await s.completeOutbound(early.id, "o"), true);
        assert.deepEqual(await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 }), [], "drained");
        await s.enqueueInbound(item("in1", "telegram:bot:1"));
        await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 1 });
        const effects = {
          outbox: [out("r:0", "telegram:bot:1"), out("r:1", "telegram:bot:1"), out("n:0", "telegram:bot:2")],
        };
        assert.equal(await s.completeInbound("in1", "w", effects), true);
        const first = await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 });
        assert.deepEqual(
          first.map((x) => x.idempotencyKey),
          ["r:0", "n:0"],
        );
        for (const d of first) assert.equal(await s.completeOutbound(d.id, "o"), true);
        assert.deepEqual(
          (await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 })).map((x) => x.idempotencyKey),
          ["r:1"],
        );
      } finally {
        await s.close();
      }
    });

    it("outbox lanes: a failure with an immediate retry, a dead head, and revived dead deliveries free their lanes", async () => {
      const s = await makeStore();
      try {
        const claim = async () =>
          (await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 10 })).map((x) => x.idempotencyKey);
        const ids = new Map<string, number>();
        for (const [key, lane] of [
          ["a0", "A"],
          ["b0", "B"],
          ["b1", "B"],
        ] as const) {
          ids.set(key, (await s.enqueueOutbound(out(key, lane))).id);
        }
        assert.deepEqual(await claim(), ["a0", "b0"]);
        assert.equal(await s.failOutbound(ids.get("a0")!, "o", "429", { retryAt: Date.now() - 1 }), true);
        assert.deepEqual(await claim(), ["a0"], "a retry already due is handed out again");
        assert.equal(await s.failOutbound(ids.get("b0")!, "o", "403", { dead: true }), true);
        assert.deepEqual(await claim(), ["b1"], "a dead head lets its lane move on");
        assert.equal(await s.failOutbound(ids.get("a0")!, "o", "403", { dead: true }), true);
        assert.equal(await s.failOutbound(ids.get("b1")!, "o", "403", { dead: true }), true);
        assert.deepEqual(await claim(), [], "every lane is empty now");
        assert.equal(await s.retryOutbound(ids.get("a0")!), true);
        assert.deepEqual(
          await claim(),
          ["a0"],
          "a delivery retried by hand is claimable in its emptied lane",
        );
        assert.equal(await s.completeOutbound(ids.get("a0")!, "o"), true);
        assert.equal(await s.retryAllDead("outbox"), 2);
        assert.deepEqual(await claim(), ["b0"], "retry all dead: the lane is due again, in its order");
        assert.equal(await s.completeOutbound(ids.get("b0")!, "o"), true);
        assert.deepEqual(await claim(), ["b1"]);
      } finally {
        await s.close();
      }
    });

    it("sessions: ensureSession creates, titles an untitled one, and leaves a titled one as it was", async () => {
      const s = await makeStore();
      try {
        await s.ensureSession("w:d:e1", "First words");
        const created = await s.getSession("w:d:e1");
        assert.equal(created?.title, "First words");
        await s.ensureSession("w:d:e1", "Later words");
        await s.ensureSession("w:d:e1");
        assert.deepEqual(await s.getSession("w:d:e1"), created, "untouched, updated_at included");
        await s.ensureSession("w:d:e2");
        await s.ensureSession("w:d:e2", "");
        assert.equal((await s.getSession("w:d:e2"))?.title, null);
        await s.ensureSession("w:d:e2", "Now titled");
        assert.equal((await s.getSession("w:d:e2"))?.title, "Now titled");
        assert.equal((await s.touchSession("w:d:e2", "ignored")).title, "Now titled");
      } finally {
        await s.close();
      }
    });

    it("sessions: generations separate context from history", async () => {
      const s = await makeStore();
      try {
        await s.touchSession("w:d:1", "First chat");
        await s.appendMessages([{ sessionKey: "w:d:1", role: "user", content: "one" }]);
        const reset = await s.resetSession("w:d:1");
        assert.equal(reset.generation, 2);
        await s.appendMessages([{ sessionKey: "w:d:1", role: "user", content: "two" }]);
        const all = await s.listMessages("w:d:1");
        assert.deepEqual(
          all.map((m) => m.content),
          ["one", "two"],
        );
        const ctx = await s.listMessages("w:d:1", { generation: reset.generation });
        assert.deepEqual(
          ctx.map((m) => m.content),
          ["two"],
        );
        const last = await s.listMessages("w:d:1", { last: 1 });
        assert.deepEqual(
          last.map((m) => m.content),
          ["two"],
        );
        const sessions = await s.listSessions({ prefix: "w:d:" });
        assert.equal(sessions[0]?.title, "First chat");
        assert.equal(sessions[0]?.lastMessage, "two");
        await s.deleteSession("w:d:1");
        assert.equal(await s.getSession("w:d:1"), undefined);
        assert.equal((await s.listMessages("w:d:1")).length, 0);
      } finally {
        await s.close();
      }
    });

    it("sessions: rename, and cut history from a message on", async () => {
      const s = await makeStore();
      try {
        await s.touchSession("w:d:a", "Penguins");
        await s.appendMessages([
          { sessionKey: "w:d:a", role: "user", content: "Where do they LIVE?" },
          { sessionKey: "w:d:a", role: "assistant", content: "In the south" },
        ]);
        await s.touchSession("w:d:b", "Bread");
        assert.equal((await s.renameSession("w:d:b", "Sourdough"))?.title, "Sourdough");
        assert.equal((await s.renameSession("w:d:b", null))?.title, null);
        assert.equal(await s.renameSession("w:d:none", "x"), undefined);

        const [one] = await s.appendMessages([{ sessionKey: "w:d:a", role: "user", content: "more" }]);
        await s.appendMessages([{ sessionKey: "w:d:b", role: "user", content: "other thread" }]);
        assert.equal(await s.deleteMessagesFrom("w:d:a", one!.id - 1), 2);
        assert.deepEqual(
          (await s.listMessages("w:d:a")).map((m) => m.content),
          ["Where do they LIVE?"],
        );
        assert.equal((await s.listMessages("w:d:b")).length, 1, "other sessions keep their history");
        const [next] = await s.appendMessages([{ sessionKey: "w:d:a", role: "user", content: "again" }]);
        assert.ok(next!.id > one!.id, "ids are never reused after a cut");
      } finally {
        await s.close();
      }
    });

    it("kv: set-if-absent, take once, expiry, list by prefix", async () => {
      const s = await makeStore();
      try {
        assert.equal(await s.kvSetIfAbsent("dedup", "x", "1", 60_000), true);
        assert.equal(await s.kvSetIfAbsent("dedup", "x", "2", 60_000), false);
        assert.equal(await s.kvGet("dedup", "x"), "1");
        await s.kvSet("tok", "t1", "payload");
        assert.equal(await s.kvTake("tok", "t1"), "payload");
        assert.equal(await s.kvTake("tok", "t1"), undefined, "single use");
        await s.kvSet("short", "k", "v", 1);
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(await s.kvGet("short", "k"), undefined);
        assert.equal(
          await s.kvSetIfAbsent("short", "k", "again", 60_000),
          true,
          "expired keys can be re-taken",
        );
        await s.kvSet("p", "a:1", "x");
        await s.kvSet("p", "a:2", "y");
        await s.kvSet("p", "b:1", "z");
        assert.deepEqual(
          (await s.kvList("p", { prefix: "a:" })).map((e) => e.key),
          ["a:1", "a:2"],
        );
        await s.kvDelete("p", "a:1");
        assert.equal(await s.kvGet("p", "a:1"), undefined);
      } finally {
        await s.close();
      }
    });

    it("kv compare-and-set: writes only over the expected live value, and loses no concurrent update", async () => {
      const s = await makeStore();
      try {
        assert.equal(await s.kvCompareAndSet("cas", "absent", "x", "y"), false, "no row, nothing to compare");
        assert.equal(await s.kvGet("cas", "absent"), undefined);
        await s.kvSet("cas", "k", "v1");
        assert.equal(await s.kvCompareAndSet("cas", "k", "stale", "v2"), false);
        assert.equal(await s.kvGet("cas", "k"), "v1", "a failed compare changes nothing");
        assert.equal(await s.kvCompareAndSet("cas", "k", "v1", "v2"), true);
        assert.equal(await s.kvGet("cas", "k"), "v2");
        assert.equal(
          await s.kvCompareAndSet("cas", "k", "v1", "v3"),
          false,
          "the old value no longer matches",
        );
        await s.kvSet("cas", "short", "v", 1);
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(await s.kvCompareAndSet("cas", "short", "v", "w"), false, "an expired value is absent");
        assert.equal(await s.kvCompareAndSet("cas", "k", "v2", "v4", 1), true, "the TTL is set like kvSet");
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(await s.kvGet("cas", "k"), undefined);

        // 20 writers each add their name to one list with a read-modify-write loop: none is lost.
        await s.kvSet("cas", "list", "[]");
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            for (;;) {
              const raw = (await s.kvGet("cas", "list"))!;
              const next = JSON.stringify([...(JSON.parse(raw) as number[]), i]);
              if (await s.kvCompareAndSet("cas", "list", raw, next)) return;
            }
          }),
        );
        assert.deepEqual(
          (JSON.parse((await s.kvGet("cas", "list"))!) as number[]).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i),
        );
      } finally {
        await s.close();
      }
    });

    it("retention: prunes finished items and expired kv, keeps open and dead items, in bounded batches", async () => {
      const s = await makeStore();
      try {
        for (const id of ["old1", "old2", "open", "dead"]) await s.enqueueInbound(item(id, `lane-${id}`));
        for (const it of await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 10 })) {
          if (it.id.startsWith("old")) await s.completeInbound(it.id, "w");
          if (it.id === "dead") await s.failInbound(it.id, "w", "x", { dead: true });
        }
        const base = { sessionKey: "o", channel: "c", account: "a", payload: "{}" };
        const sent = await s.enqueueOutbound({ ...base, idempotencyKey: "sent" });
        await s.enqueueOutbound({ ...base, sessionKey: "o2", idempotencyKey: "waiting" });
        const [claimed] = await s.claimOutbound({ owner: "w", leaseMs: 10_000, limit: 1 });
        assert.equal(claimed?.id, sent.id);
        await s.completeOutbound(sent.id, "w");
        await s.kvSet("n", "expired", "v", 1);
        await s.kvSet("n", "forever", "v");
        await new Promise((r) => setTimeout(r, 10));

        assert.deepEqual(await s.prune({ finishedBefore: Date.now() - 60_000, limit: 100 }), {
          inbox: 0,
          outbox: 0,
          kv: 1,
          media: 0,
        });
        assert.deepEqual(await s.prune({ finishedBefore: Date.now() + 1000, limit: 1 }), {
          inbox: 1,
          outbox: 1,
          kv: 0,
          media: 0,
        });
        assert.deepEqual(await s.prune({ finishedBefore: Date.now() + 1000, limit: 100 }), {
          inbox: 1,
          outbox: 0,
          kv: 0,
          media: 0,
        });
        assert.equal(await s.getInbound("old1"), undefined);
        assert.equal((await s.getInbound("open"))?.state, "leased");
        assert.equal((await s.getInbound("dead"))?.state, "dead");
        assert.equal((await s.findOutboundByKey("waiting"))?.state, "pending");
        assert.equal(await s.kvGet("n", "forever"), "v");
      } finally {
        await s.close();
      }
    });

    it("media: the exact bytes come back while live; expired files are invisible and pruned", async () => {
      const s = await makeStore();
      try {
        // Every byte value, so an encoding slip (text instead of binary) shows.
        const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
        await s.mediaPut({
          id: "m1",
          owner: "chat:1",
          mime: "image/png",
          name: "a.png",
          bytes,
          expiresAt: Date.now() + 60_000,
        });
        await s.mediaPut({
          id: "m2",
          owner: "chat:1",
          mime: "text/plain",
          bytes: Buffer.from("x"),
          expiresAt: Date.now() - 1,
        });
        const got = await s.mediaGet("m1");
        assert.ok(got);
        assert.ok(got.bytes.equals(bytes));
        assert.equal(got.size, bytes.length);
        assert.equal(got.mime, "image/png");
        assert.equal(got.name, "a.png");
        assert.equal(got.owner, "chat:1");
        assert.equal(await s.mediaGet("m2"), undefined);
        await assert.rejects(
          s.mediaPut({ id: "m1", owner: "x", mime: "a/b", bytes, expiresAt: Date.now() + 1000 }),
          "an id is never overwritten",
        );
        const pruned = await s.prune({ finishedBefore: 0, limit: 100 });
        assert.equal(pruned.media, 1);
        await s.mediaDelete("m1");
        assert.equal(await s.mediaGet("m1"), undefined);
        await s.mediaPut({ id: "m3", owner: "chat:2", mime: "a/b", bytes, expiresAt: Date.now() + 60_000 });
        await s.mediaPut({ id: "m4", owner: "chat:3", mime: "a/b", bytes, expiresAt: Date.now() + 60_000 });
        await s.deleteSession("chat:2");
        assert.equal(await s.mediaGet("m3"), undefined, "a deleted conversation's files go with it");
        assert.ok(await s.mediaGet("m4"), "another conversation's files stay");
      } finally {
        await s.close();
      }
    });

    it("retry all dead: every revived item is claimable again, in lane order", async () => {
      const s = await makeStore();
      try {
        for (const [id, lane] of [
          ["d1", "lane-a"],
          ["d2", "lane-b"],
          ["d3", "lane-b"],
        ] as const) {
          await s.enqueueInbound(item(id, lane));
        }
        for (let round = 0; round < 3; round++) {
          for (const it of await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 10 })) {
            await s.failInbound(it.id, "w", "down", { dead: true });
          }
        }
        assert.equal((await s.inboxStats()).dead, 3);
        assert.equal(await s.retryAllDead("inbox"), 3);
        const first = (await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 10 }))
          .map((i) => i.id)
          .sort();
        assert.deepEqual(first, ["d1", "d2"], "both lanes are due again; one item per lane");
        for (const id of first) await s.completeInbound(id, "w");
        const second = (await s.claimInbound({ owner: "w", leaseMs: 10_000, limit: 10 })).map((i) => i.id);
        assert.deepEqual(second, ["d3"]);
      } finally {
        await s.close();
      }
    });

    it("leases: one holder at a time, renewable, taken over after expiry", async () => {
      const s = await makeStore();
      try {
        // Live leases are long, so a busy machine cannot expire them between two steps; only the one
        // meant to expire is short.
        assert.equal(await s.acquireLease("poller:tg", "r1", 60_000), true);
        assert.equal(await s.acquireLease("poller:tg", "r2", 60_000), false);
        assert.equal(await s.acquireLease("poller:tg", "r1", 60_000), true, "renewal");
        assert.equal((await s.leaseHolder("poller:tg"))?.owner, "r1");
        assert.equal(await s.acquireLease("poller:tg", "r1", 1), true, "renewed to expire at once");
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(await s.acquireLease("poller:tg", "r2", 60_000), true, "takeover after expiry");
        await s.releaseLease("poller:tg", "r1");
        assert.equal((await s.leaseHolder("poller:tg"))?.owner, "r2", "release by a non-holder does nothing");
        await s.releaseLease("poller:tg", "r2");
        assert.equal(await s.leaseHolder("poller:tg"), undefined);
      } finally {
        await s.close();
      }
    });
  });
}
