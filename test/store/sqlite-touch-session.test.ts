// touchSession skips its write when it would change nothing (the web chat calls it on every message); these
// check that the title rules a user sees in the thread list are unchanged by that shortcut.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

async function open(file = join(mkdtempSync(join(tmpdir(), "clawgate-touch-")), "s.db")) {
  const s = new SqliteStore(file);
  await s.migrate();
  return s;
}

it("touchSession: the first title sticks, later titles and title-less touches keep it", async () => {
  const s = await open();
  const created = await s.touchSession("webchat:default:t1", "What is WAL?");
  assert.equal(created.title, "What is WAL?");
  assert.equal(created.generation, 1);
  const again = await s.touchSession("webchat:default:t1", "a later message");
  assert.deepEqual(again, created);
  assert.deepEqual(await s.touchSession("webchat:default:t1"), created);
  assert.deepEqual(await s.getSession("webchat:default:t1"), created);
  await s.close();
});

it("touchSession: a session created without a title gets the first one offered, empty titles are ignored", async () => {
  const s = await open();
  const untitled = await s.touchSession("webchat:default:t2");
  assert.equal(untitled.title, null);
  assert.equal((await s.touchSession("webchat:default:t2", "")).title, null);
  assert.equal((await s.touchSession("webchat:default:t2", "first words")).title, "first words");
  assert.equal((await s.touchSession("webchat:default:t2", "second words")).title, "first words");
  await s.close();
});

it("touchSession: reflects history and resets written in between, and survives reopening", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "clawgate-touch-")), "s.db");
  const s = await open(file);
  await s.touchSession("webchat:default:t3", "hello");
  await s.appendMessages([{ sessionKey: "webchat:default:t3", role: "user", content: "hello there" }]);
  await s.resetSession("webchat:default:t3");
  const touched = await s.touchSession("webchat:default:t3", "ignored");
  assert.equal(touched.generation, 2);
  assert.equal(touched.lastMessage, "hello there");
  await s.close();
  const reopened = await open(file);
  assert.deepEqual(await reopened.touchSession("webchat:default:t3"), touched);
  await reopened.close();
});
