// docs/openapi.json is generated from the web chat's routes (npm run openapi): the committed file must be what
// the routes describe today, and every route and frame the API serves must be in it and in docs/webchat-api.md.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { documentedRoutes, OPENAPI_PATH, renderOpenApi } from "../../src/channels/webchat/openapi.ts";

test("docs/openapi.json is current: run `npm run openapi` after changing a web chat route", () => {
  assert.equal(readFileSync(OPENAPI_PATH, "utf8"), renderOpenApi());
});

test("every /api route carries its description, and docs/webchat-api.md names it", () => {
  const guide = readFileSync(new URL("../../docs/webchat-api.md", import.meta.url), "utf8");
  for (const r of documentedRoutes().filter((x) => x.path.startsWith("/api/"))) {
    assert.ok(r.doc?.summary, `${r.method} ${r.path} has no doc next to its route`);
    assert.ok(
      guide.includes(`${r.method} ${r.path}`),
      `docs/webchat-api.md does not document ${r.method} ${r.path}`,
    );
  }
});

test("the OpenAPI file describes the WebSocket and the thread routes with their path parameter", () => {
  const doc = JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: object }>>;
  };
  assert.ok(doc.paths["/api/ws"]?.get?.responses && "101" in doc.paths["/api/ws"].get.responses);
  assert.deepEqual(doc.paths["/api/threads/{id}/messages"]?.post?.parameters?.[0], {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
  });
});
