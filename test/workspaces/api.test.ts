// The workspace, file and memory API: every route with good and bad input, uploads refused while they stream
// (nothing kept), path tricks in file names, the web chat's token and origin rules.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { workspacesExtension } from "../../src/workspaces/extension.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { BOUNDARY, call, multipartBody, rawPost, upload } from "./helpers.ts";

const token = "workspace-test-token-0123456789";

describe("workspaces API", () => {
  let agent: FakeAgent;
  let gw: TestGateway;
  let base: string;

  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        webchat: { token },
        workspaces: { maxFileMb: 4 / 1024, quotaMb: 10 / 1024 },
      },
      extensions: [workspacesExtension()],
    });
    base = gw.url;
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
  });

  const create = async (body: unknown = { name: "Research" }) => call(base, "POST", "/api/workspaces", body);
  /** Media rows of an owner, read with the store's own statement runner (protected, reached for this check). */
  const mediaRows = async (owner: string) => {
    const store = gw.gateway.store as unknown as {
      all(q: { text: string }, a: unknown[]): Promise<{ n: unknown }[]>;
    };
    const rows = await store.all({ text: "SELECT COUNT(*) AS n FROM media WHERE owner = $1" }, [owner]);
    return Number(rows[0]!.n);
  };

  it("creates, lists, reads, changes and deletes a workspace", async () => {
    const made = await create({ name: "  Research ", systemPrompt: "Be brief.", model: "m-1" });
    assert.equal(made.status, 201);
    assert.match(made.json.id, /^ws_[a-f0-9]{16}$/);
    assert.equal(made.json.name, "Research");
    assert.equal(made.json.systemPrompt, "Be brief.");
    const list = await call(base, "GET", "/api/workspaces");
    assert.ok(list.json.workspaces.some((w: { id: string }) => w.id === made.json.id));
    const changed = await call(base, "PATCH", `/api/workspaces/${made.json.id}`, {
      agentUrl: "http://127.0.0.1:9/v1/chat/completions",
      systemPrompt: null,
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.json.name, "Research", "a key not sent keeps its value");
    assert.equal(changed.json.systemPrompt, null);
    assert.equal(changed.json.agentUrl, "http://127.0.0.1:9/v1/chat/completions");
    assert.deepEqual(changed.json.budget, { budgetTokens: 8000, usedTokens: 0, files: [], memoryTokens: 0 });
    assert.equal((await call(base, "DELETE", `/api/workspaces/${made.json.id}`)).status, 200);
    assert.equal((await call(base, "GET", `/api/workspaces/${made.json.id}`)).status, 404);
  });

  it("refuses bad workspace input with a reason", async () => {
    assert.deepEqual(await create({ name: "" }), {
      status: 400,
      json: { ok: false, error: "name must be 1-100 characters" },
    });
    assert.equal((await create({ name: "x", agentUrl: "file:///etc/passwd" })).status, 400);
    assert.equal((await create({ name: "x", systemPrompt: 42 })).status, 400);
    // The gateway would POST conversations there: private addresses other than the configured agent's host are refused.
    for (const agentUrl of ["http://10.0.0.5/v1/chat/completions", "http://169.254.169.254/latest"]) {
      const refused = await create({ name: "x", agentUrl });
      assert.equal(refused.status, 400, agentUrl);
      assert.match(refused.json.error, /^agentUrl: refused to fetch .*private or reserved address/);
    }
    assert.equal((await call(base, "POST", "/api/workspaces", [1, 2])).status, 400);
    const malformed = await call(base, "GET", "/api/workspaces/..%2F..%2Fetc");
    assert.equal(malformed.status, 400);
    const unknown = await call(base, "GET", "/api/workspaces/ws_0000000000000000");
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no workspace ws_0000000000000000/);
    for (const path of ["/files", "/memories", "/threads"]) {
      assert.equal((await call(base, "GET", `/api/workspaces/ws_0000000000000000${path}`)).status, 404, path);
    }
    assert.equal((await upload(base, "ws_0000000000000000", "a.txt", "hi")).status, 404);
  });

  it("needs the token from a caller that is not local, and refuses a foreign origin", async () => {
    const ws = (await create()).json.id;
    const remote = { "x-forwarded-for": "203.0.113.9" };
    const wrong = { ...remote, authorization: "Bearer wrong-token-wrong-token" };
    for (const [method, path] of [
      ["GET", "/api/workspaces"],
      ["GET", `/api/workspaces/${ws}/files`],
      ["GET", `/api/workspaces/${ws}/memories`],
      ["DELETE", `/api/workspaces/${ws}`],
    ] as const) {
      assert.equal((await call(base, method, path, undefined, wrong)).status, 401, `${method} ${path}`);
    }
    assert.equal((await upload(base, ws, "a.txt", "hello", "text/plain", wrong)).status, 401);
    const ok = await call(base, "GET", "/api/workspaces", undefined, {
      ...remote,
      authorization: `Bearer ${token}`,
    });
    assert.equal(ok.status, 200);
    const foreign = { origin: "https://attacker.example" };
    assert.equal((await call(base, "POST", "/api/workspaces", { name: "evil" }, foreign)).status, 403);
    assert.equal((await upload(base, ws, "a.txt", "hello", "text/plain", foreign)).status, 403);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}`)).status, 200, "nothing was deleted");
  });

  it("takes a text file, lists it, previews its text and serves its exact bytes", async () => {
    const ws = (await create()).json.id;
    const text = "Project Falcon launches on 3 March.\nBudget: 12k.\n";
    const up = await upload(base, ws, "notes.txt", text);
    assert.equal(up.status, 201, JSON.stringify(up.json));
    assert.equal(up.json.name, "notes.txt");
    assert.equal(up.json.size, Buffer.byteLength(text));
    assert.equal(up.json.pinned, false);
    const list = await call(base, "GET", `/api/workspaces/${ws}/files`);
    assert.deepEqual(
      list.json.files.map((f: { name: string }) => f.name),
      ["notes.txt"],
    );
    assert.equal(list.json.usedBytes, Buffer.byteLength(text));
    const preview = await call(base, "GET", `/api/workspaces/${ws}/files/${up.json.id}`);
    assert.equal(preview.json.preview, text);
    const res = await fetch(`${base}/api/workspaces/${ws}/files/${up.json.id}/content`);
    assert.equal(await res.text(), text);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/files/f_0000000000000000`)).status, 404);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/files/f_zz`)).status, 400);
  });

  it("keeps only the last segment of a file name with a path in it, and refuses control characters", async () => {
    const ws = (await create()).json.id;
    const tricky = await upload(base, ws, "../../etc/passwd", "root:x:0:0");
    assert.equal(tricky.status, 201);
    assert.equal(tricky.json.name, "passwd");
    const windows = await upload(base, ws, "..\\..\\boot.ini", "x");
    assert.equal(windows.json.name, "boot.ini");
    const nul = await upload(base, ws, "a.txt\u0000.png", "x");
    assert.deepEqual(nul, {
      status: 400,
      json: { ok: false, error: "the file name must not contain control characters" },
    });
    assert.equal((await upload(base, ws, "..", "x")).status, 400);
    const files = (await call(base, "GET", `/api/workspaces/${ws}/files`)).json.files;
    assert.deepEqual(files.map((f: { name: string }) => f.name).sort(), ["boot.ini", "passwd"]);
  });

  it("refuses an oversized upload with 413 and keeps nothing, whether it declared its length or not", async () => {
    const ws = (await create()).json.id;
    const big = Buffer.alloc(5 * 1024, "a");
    const declared = await upload(base, ws, "big.txt", big);
    assert.equal(declared.status, 413);
    const streamed = await rawPost(
      `${base}/api/workspaces/${ws}/files`,
      multipartBody([
        { name: "file", filename: "big.txt", mime: "text/plain", data: Buffer.alloc(200 * 1024, "b") },
      ]),
      {},
      { chunked: true },
    );
    assert.equal(streamed.status, 413);
    assert.match(streamed.json.error, /larger than the limit of 4096 bytes/);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/files`)).json.files.length, 0);
    assert.equal(await mediaRows(`workspace:${ws}`), 0);
  });

  it("enforces the workspace quota across files", async () => {
    const ws = (await create()).json.id;
    for (let i = 0; i < 2; i++)
      assert.equal((await upload(base, ws, `f${i}.txt`, Buffer.alloc(4000, "x"))).status, 201);
    const third = await upload(base, ws, "f2.txt", Buffer.alloc(4000, "x"));
    assert.equal(third.status, 413);
    assert.match(third.json.error, /workspace/);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/files`)).json.files.length, 2);
  });

  it("refuses uploads without the upload header, not multipart, without a file part or malformed", async () => {
    const ws = (await create()).json.id;
    const url = `${base}/api/workspaces/${ws}/files`;
    const body = multipartBody([{ name: "file", filename: "a.txt", data: "hi" }]);
    assert.equal((await rawPost(url, body, { "x-clawgate-upload": "" })).status, 400);
    assert.equal((await rawPost(url, body, { "content-type": "application/json" })).status, 415);
    assert.equal((await rawPost(url, multipartBody([{ name: "other", data: "x" }]), {})).status, 400);
    const cut = body.subarray(0, body.length - 10);
    assert.equal((await rawPost(url, cut, {})).status, 400);
    assert.equal(
      (await rawPost(url, Buffer.from(`--${BOUNDARY}\r\nX: y\r\n\r\nhi\r\n--${BOUNDARY}--`), {})).status,
      400,
    );
  });

  it("receives at most 4 uploads at once; a fifth gets 503 with Retry-After", async () => {
    const ws = (await create()).json.id;
    const url = `${base}/api/workspaces/${ws}/files`;
    // Each held upload asks to continue: the server answers 100 only once it counts the upload as being read.
    const held = await Promise.all(
      Array.from({ length: 4 }, () => {
        const req = request(url, {
          method: "POST",
          headers: {
            "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
            "x-clawgate-upload": "1",
            "content-length": "1000",
            expect: "100-continue",
          },
        });
        req.on("error", () => {});
        req.flushHeaders();
        return new Promise<typeof req>((resolve) => req.once("continue", () => resolve(req)));
      }),
    );
    const fifth = await upload(base, ws, "five.txt", "x");
    assert.equal(fifth.status, 503);
    assert.match(fifth.json.error, /4 uploads are being received already/);
    for (const req of held) req.destroy();
  });

  it("pins a file with text, refuses to pin one without, and shows the token budget", async () => {
    const ws = (await create()).json.id;
    const f = (await upload(base, ws, "a.txt", "x".repeat(400))).json;
    const png = (await upload(base, ws, "p.png", Buffer.from("89504e470d0a1a0a0000", "hex"), "image/png"))
      .json;
    assert.equal(png.textChars, 0);
    assert.equal(
      (await call(base, "PATCH", `/api/workspaces/${ws}/files/${png.id}`, { pinned: true })).status,
      400,
    );
    assert.equal(
      (await call(base, "PATCH", `/api/workspaces/${ws}/files/${f.id}`, { pinned: "yes" })).status,
      400,
    );
    const pinned = await call(base, "PATCH", `/api/workspaces/${ws}/files/${f.id}`, { pinned: true });
    assert.equal(pinned.json.pinned, true);
    const list = await call(base, "GET", `/api/workspaces/${ws}/files`);
    assert.deepEqual(list.json.budget.files, [{ name: "a.txt", tokens: 100, cut: false }]);
    assert.equal(list.json.budget.usedTokens, 100);
    assert.equal((await call(base, "DELETE", `/api/workspaces/${ws}/files/${f.id}`)).status, 200);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/files/${f.id}`)).status, 404);
    assert.equal((await call(base, "DELETE", `/api/workspaces/${ws}/files/${f.id}`)).status, 404);
  });

  it("saves, lists, confirms and deletes memories, refusing bad ones", async () => {
    const ws = (await create()).json.id;
    const m = await call(base, "POST", `/api/workspaces/${ws}/memories`, { text: "I prefer metric units" });
    assert.equal(m.status, 201);
    assert.equal(m.json.state, "saved");
    assert.equal(m.json.source, "user");
    assert.equal(m.json.hasVector, false);
    assert.equal((await call(base, "POST", `/api/workspaces/${ws}/memories`, { text: "" })).status, 400);
    assert.equal(
      (await call(base, "POST", `/api/workspaces/${ws}/memories`, { text: "x".repeat(501) })).status,
      400,
    );
    assert.equal(
      (await call(base, "POST", `/api/workspaces/${ws}/memories/mem_0000000000000000/confirm`)).status,
      404,
    );
    assert.equal((await call(base, "DELETE", `/api/workspaces/${ws}/memories/nope`)).status, 400);
    const list = await call(base, "GET", `/api/workspaces/${ws}/memories`);
    assert.deepEqual(
      list.json.memories.map((x: { text: string }) => x.text),
      ["I prefer metric units"],
    );
    assert.equal((await call(base, "DELETE", `/api/workspaces/${ws}/memories/${m.json.id}`)).status, 200);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/memories`)).json.memories.length, 0);
    assert.equal((await call(base, "GET", `/api/workspaces/${ws}/memories/recall`)).status, 400);
  });

  it("creates threads in a workspace, moves one in, and names a thread's workspace", async () => {
    const ws = (await create()).json.id;
    const t = await call(base, "POST", `/api/workspaces/${ws}/threads`, { title: "Plan" });
    assert.equal(t.status, 201);
    assert.equal((await call(base, "GET", `/api/threads/${t.json.id}/workspace`)).json.workspaceId, ws);
    const plain = await call(base, "POST", "/api/threads", {});
    assert.equal((await call(base, "GET", `/api/threads/${plain.json.id}/workspace`)).json.workspaceId, null);
    assert.equal((await call(base, "PUT", `/api/workspaces/${ws}/threads/${plain.json.id}`)).status, 200);
    assert.equal((await call(base, "PUT", `/api/workspaces/${ws}/threads/nothere`)).status, 404);
    assert.equal((await call(base, "PUT", `/api/workspaces/${ws}/threads/a%00b`)).status, 400);
    const threads = await call(base, "GET", `/api/workspaces/${ws}/threads`);
    assert.deepEqual(
      threads.json.threads.map((x: { id: string }) => x.id).sort(),
      [t.json.id, plain.json.id].sort(),
    );
  });
});
