// An extension sees only the ExtensionHost: what it registers there is what a user and an operator meet — its
// admin routes sit behind the admin token, an HttpError it throws is the answer, its target decorator answers
// the conversation, its status line shows in /status.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ExtensionHost, GatewayExtension } from "../../src/gateway/host.ts";
import { HttpError } from "../../src/http/errors.ts";
import { readJsonObject } from "../../src/http/json-body.ts";
import { sendJson } from "../../src/http/respond.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { expectMessage, newThread, say } from "../security/chat.ts";

const ADMIN = "admin-token-for-the-extension-host-test";

function probeExtension(): GatewayExtension & { stopped: boolean } {
  const ext = {
    name: "probe",
    stopped: false,
    setup(host: ExtensionHost) {
      host.adminRoutes.add("POST", "/admin/api/probe", async (_req, res, { body }) => {
        const json = readJsonObject(body, { emptyIsObject: true });
        if (!json) throw new HttpError(400, "body must be a JSON object");
        if (json.taken === true) throw new HttpError(409, "that name is taken");
        sendJson(res, 200, { ok: true, echo: json });
      });
      host.targetDecorators.add((_event, chosen) => ({
        name: `probe(${chosen.name})`,
        run: async (req) => ({ kind: "reply", text: `probe says: ${req.event.text}` }),
      }));
      host.status.add(async () => "Probe: ready");
    },
    stop() {
      ext.stopped = true;
    },
  };
  return ext;
}

describe("the extension host", () => {
  let gw: TestGateway;
  const ext = probeExtension();
  before(async () => {
    gw = await startTestGateway({
      config: { adminToken: ADMIN, agentUrl: "http://127.0.0.1:9/v1/chat/completions" },
      extensions: [ext],
    });
  });
  after(() => gw.stop());

  const post = (body: string, token?: string) =>
    fetch(`${gw.url}/admin/api/probe`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  test("an extension's admin route refuses a caller without the admin token before reading the body", async () => {
    const res = await post('{"name":"x"}');
    assert.equal(res.status, 401);
    const wrong = await post('{"name":"x"}', "not-the-token");
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { ok: false, error: "admin token is wrong" });
  });

  test("with the token the route answers, and an HttpError it throws becomes that status and reason", async () => {
    const ok = await post('{"name":"x"}', ADMIN);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, echo: { name: "x" } });
    const taken = await post('{"taken":true}', ADMIN);
    assert.equal(taken.status, 409);
    assert.deepEqual(await taken.json(), { ok: false, error: "that name is taken" });
    for (const bad of ["[1,2]", "42", "{not json"]) {
      const res = await post(bad, ADMIN);
      assert.equal(res.status, 400, bad);
      assert.deepEqual(await res.json(), { ok: false, error: "body must be a JSON object" });
    }
  });

  test("the target decorator answers the conversation, and /status shows the extension's line", async () => {
    const thread = await newThread(gw.url);
    await say(gw.url, thread, "hello there");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content === "probe says: hello there",
      "the decorated reply",
    );
    await say(gw.url, thread, "/status");
    await expectMessage(gw.url, thread, (m) => m.content.includes("Probe: ready"), "the status line");
  });
});

test("readJsonObject: objects only; an empty body is {} only where the caller allows it", () => {
  const b = (s: string) => Buffer.from(s);
  assert.deepEqual(readJsonObject(b('{"a":1}')), { a: 1 });
  assert.equal(readJsonObject(b("")), undefined);
  assert.deepEqual(readJsonObject(b(""), { emptyIsObject: true }), {});
  for (const bad of ["[]", "null", "1", '"x"', "{", "true"])
    assert.equal(readJsonObject(b(bad)), undefined, bad);
});

test("an extension whose setup fails stops startup with its error, and the ones set up before it are stopped", async () => {
  const first = probeExtension();
  const broken: GatewayExtension = {
    name: "broken",
    setup() {
      throw new Error("broken extension: missing setting foo");
    },
  };
  await assert.rejects(startTestGateway({ extensions: [first, broken] }), /missing setting foo/);
  assert.equal(first.stopped, true);
});
