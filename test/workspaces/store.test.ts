// The workspace tables on both stores (every replica must see the same rows): create, files, memories with
// vectors, and the deletes that take a thread's or a workspace's rows with them.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { tempDir } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

const kinds: [string, () => Promise<{ store: Store; done(): Promise<void> }>][] = [
  [
    "sqlite",
    async () => {
      const store = new SqliteStore(`${tempDir()}/ws.db`);
      await store.migrate();
      return { store, done: () => store.close() };
    },
  ],
  [
    "postgres",
    async () => {
      const db: TestDatabase = await createTestDatabase();
      const store = new PostgresStore(db.url);
      await store.migrate();
      return {
        store,
        done: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  ],
];

for (const [kind, open] of kinds) {
  describe(`workspace rows on ${kind}`, () => {
    const opened: (() => Promise<void>)[] = [];
    after(async () => {
      for (const d of opened) await d();
    });

    it("keeps workspaces, files, memories and vectors, and deletes them with the workspace", async () => {
      const { store, done } = await open();
      opened.push(done);
      const rows = store.workspaces;
      const ws = await rows.create("ws_00000000000000aa", {
        name: "A",
        systemPrompt: "p",
        agentUrl: null,
        model: null,
      });
      assert.equal(ws.name, "A");
      assert.equal(typeof ws.createdAt, "number");
      await store.mediaPut({
        id: "m_0123456789abcdef0123456789abcdef",
        owner: "workspace:ws_00000000000000aa",
        mime: "text/plain",
        bytes: Buffer.from("hello"),
        expiresAt: 253_402_300_799_000,
      });
      await rows.addFile({
        id: "f_00000000000000aa",
        workspaceId: ws.id,
        mediaId: "m_0123456789abcdef0123456789abcdef",
        name: "a.txt",
        mime: "text/plain",
        size: 5,
        text: "hello",
      });
      assert.equal(await rows.usedBytes(ws.id), 5);
      assert.equal(await rows.pinFile(ws.id, "f_00000000000000aa", true), true);
      assert.deepEqual(await rows.pinnedTexts(ws.id), [
        { id: "f_00000000000000aa", name: "a.txt", text: "hello" },
      ]);
      const [file] = await rows.files(ws.id);
      assert.equal(file!.textChars, 5);
      assert.equal(file!.pinned, true);
      await rows.addMemory({
        id: "mem_00000000000000aa",
        workspaceId: ws.id,
        text: "fact",
        source: "user",
        state: "saved",
        sessionKey: null,
        vector: [0.5, -0.25],
      });
      assert.deepEqual((await rows.memories(ws.id))[0]!.vector, [0.5, -0.25]);
      await store.touchSession("webchat:default:t1");
      await rows.assignThread("webchat:default:t1", ws.id);
      await rows.assignThread("webchat:default:t1", ws.id);
      assert.deepEqual(await rows.threads(ws.id), ["webchat:default:t1"]);
      await rows.addMemory({
        id: "mem_00000000000000bb",
        workspaceId: ws.id,
        text: "proposed in t1",
        source: "agent",
        state: "proposed",
        sessionKey: "webchat:default:t1",
        vector: null,
      });
      await store.deleteSession("webchat:default:t1");
      assert.equal(await rows.workspaceOf("webchat:default:t1"), undefined);
      assert.deepEqual(
        (await rows.memories(ws.id)).map((m) => m.id),
        ["mem_00000000000000aa"],
      );
      assert.equal(await rows.delete(ws.id), true);
      assert.equal(await rows.get(ws.id), undefined);
      assert.deepEqual(await rows.files(ws.id), []);
      assert.deepEqual(await rows.memories(ws.id), []);
      assert.equal(await store.mediaGet("m_0123456789abcdef0123456789abcdef"), undefined);
    });
  });
}
