// A group commit whose commit takes only part of a batch (SQLite's per-transaction budget): the rest is
// committed in later transactions, in order, and each caller hears back only once its own transaction is done.
import assert from "node:assert/strict";
import { it } from "node:test";
import { GroupCommit } from "../../src/store/group-commit.ts";

/** A synchronous commit that takes at most `max` items, recording each transaction it runs. */
function partial(max: number) {
  const transactions: string[][] = [];
  const gc = new GroupCommit<string, string>((items) => {
    const taken = items.slice(0, max);
    transactions.push(taken);
    return taken.map((x) => `${x}:done`);
  });
  return { gc, transactions };
}

it("group commit: a batch larger than one transaction takes is committed in several, in order", async () => {
  const { gc, transactions } = partial(2);
  const heard: [string, number][] = [];
  const all = ["a", "b", "c", "d", "e"].map((x) =>
    gc.add(x).then((r) => {
      heard.push([r, transactions.length]);
      return r;
    }),
  );
  assert.deepEqual(await Promise.all(all), ["a:done", "b:done", "c:done", "d:done", "e:done"]);
  assert.deepEqual(transactions, [["a", "b"], ["c", "d"], ["e"]]);
  // Each caller heard back after its own transaction and before the next one ran: one transaction per turn.
  assert.deepEqual(heard, [
    ["a:done", 1],
    ["b:done", 1],
    ["c:done", 2],
    ["d:done", 2],
    ["e:done", 3],
  ]);
});

it("group commit: what a transaction left keeps its place ahead of writes added after it", async () => {
  const { gc, transactions } = partial(2);
  const first = ["a", "b", "c"].map((x) => gc.add(x));
  await first[0];
  const later = gc.add("x");
  await Promise.all([...first, later]);
  assert.deepEqual(transactions.flat(), ["a", "b", "c", "x"]);
});

it("group commit: flush() commits everything waiting before it returns, however many transactions that takes", () => {
  const { gc, transactions } = partial(3);
  for (const x of ["a", "b", "c", "d", "e", "f", "g"]) void gc.add(x);
  gc.flush();
  assert.deepEqual(transactions, [["a", "b", "c"], ["d", "e", "f"], ["g"]]);
});

it("group commit: a commit that takes nothing fails its batch instead of being asked again forever", async () => {
  const gc = new GroupCommit<string, string>(() => []);
  await assert.rejects(gc.add("a"), /took none/);
});

it("group commit: a failing transaction fails only the writes given to it; later writes still commit", async () => {
  let calls = 0;
  const gc = new GroupCommit<string, string>((items) => {
    calls++;
    if (calls === 1) throw new Error("disk full");
    return items.map((x) => `${x}:done`);
  });
  const a = gc.add("a");
  await assert.rejects(a, /disk full/);
  assert.equal(await gc.add("b"), "b:done");
});

it("group commit: an asynchronous commit that takes part of its batch commits the rest, and settled() waits for all", async () => {
  const transactions: string[][] = [];
  const gc = new GroupCommit<string, string>(async (items) => {
    await new Promise((r) => setTimeout(r, 1));
    const taken = items.slice(0, 2);
    transactions.push(taken);
    return taken.map((x) => `${x}:done`);
  });
  const results: string[] = [];
  for (const x of ["a", "b", "c", "d", "e"]) void gc.add(x).then((r) => results.push(r));
  await gc.settled();
  assert.deepEqual(transactions.flat(), ["a", "b", "c", "d", "e"]);
  // settled() returns after the last transaction's callers were told (their .then ran before ours).
  await Promise.resolve();
  assert.deepEqual(results, ["a:done", "b:done", "c:done", "d:done", "e:done"]);
});
