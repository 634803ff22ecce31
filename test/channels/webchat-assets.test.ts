// The page's libraries are served by the gateway from the installed packages (no CDN), as modules a browser can
// import, and the page's CSP admits exactly its own import map.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { HIGHLIGHT_LANGUAGES } from "../../src/channels/webchat/assets.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

describe("web chat assets", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  it("serves the libraries from their packages, byte for byte, as JavaScript modules", async () => {
    const same = [
      ["/assets/vendor/marked.js", "marked"],
      ["/assets/vendor/purify.js", "dompurify"],
      ["/assets/vendor/highlight/github.css", "highlight.js/styles/github.css"],
      ...HIGHLIGHT_LANGUAGES.map((l) => [
        `/assets/vendor/highlight/languages/${l}`,
        `highlight.js/lib/languages/${l}`,
      ]),
    ];
    for (const [path, specifier] of same) {
      const res = await fetch(gw.url + path!);
      assert.equal(res.status, 200, path);
      assert.match(
        res.headers.get("content-type") ?? "",
        path!.endsWith(".css") ? /^text\/css/ : /^text\/javascript/,
      );
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(
        await res.text(),
        readFileSync(fileURLToPath(import.meta.resolve(specifier!)), "utf8"),
        path,
      );
    }
    // highlight.js's core is CommonJS even in its es/ folder: served wrapped as a module with a default export.
    const core = await (await fetch(`${gw.url}/assets/vendor/highlight/core.js`)).text();
    assert.match(core, /^const module = \{ exports: \{\} \};\n/);
    assert.match(core, /\nexport default module\.exports;\n$/);
  });

  it("the page's CSP allows its own scripts and the import map by hash, nothing inline else", async () => {
    const res = await fetch(`${gw.url}/`);
    const html = await res.text();
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash("sha256").update(map).digest("base64");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, "\\$&")}';`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, "no CDN or other outside URL in the page");
    for (const target of Object.values(JSON.parse(map).imports as Record<string, string>)) {
      assert.ok(target.startsWith("/assets/vendor/"), target);
    }
  });

  it("page modules come only from web/chat/, by plain names", async () => {
    assert.equal((await fetch(`${gw.url}/assets/chat/markdown.js`)).status, 200);
    for (const bad of ["nope.js", "..%2Fchat.js", "..%2F..%2Fpackage.json", "Markdown.js", "markdown.ts"]) {
      assert.equal((await fetch(`${gw.url}/assets/chat/${bad}`)).status, 404, bad);
    }
  });
});
