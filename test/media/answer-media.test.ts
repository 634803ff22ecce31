// Which links in an agent's answer become files: data URLs of document types, and document links on the hosts the
// operator listed; nothing on other hosts, nothing inside code.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/schema.ts";
import { findAnswerMedia, safeFilename, takeAnswerMedia } from "../../src/media/answer-media.ts";
import { documentMime } from "../../src/media/document-types.ts";

const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const pdfUrl = `data:application/pdf;base64,${pdf.toString("base64")}`;
const policy = { allowHosts: [], allowPrivate: false };

describe("findAnswerMedia", () => {
  it("finds a PDF data URL link, with its link text and type", () => {
    const text = `The report is ready: [report.pdf](${pdfUrl}). Anything else?`;
    const found = findAnswerMedia(text, []);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0], {
      kind: "file",
      raw: `[report.pdf](${pdfUrl})`,
      url: pdfUrl,
      text: "report.pdf",
      mime: "application/pdf",
    });
  });

  it("finds a CSV link on an allowed host, by its path's extension", () => {
    const found = findAnswerMedia("See [the numbers](https://files.example.com/q3/sales.csv?v=2).", [
      "files.example.com",
    ]);
    assert.deepEqual(
      found.map((f) => [f.kind, f.url, f.kind === "file" && f.mime]),
      [["file", "https://files.example.com/q3/sales.csv?v=2", "text/csv"]],
    );
  });

  it("leaves a link on another host alone, and a link that is not a document", () => {
    const text =
      "[sales.csv](https://evil.example.net/sales.csv) and [a page](https://files.example.com/about.html) " +
      "and [x](data:text/html;base64,PGI+)";
    assert.deepEqual(findAnswerMedia(text, ["files.example.com"]), []);
  });

  it("leaves a link inside a code block or inline code alone", () => {
    const text = `Use this:\n\n\`\`\`\n[report.pdf](${pdfUrl})\n\`\`\`\n\nor \`[r.pdf](${pdfUrl})\``;
    assert.deepEqual(findAnswerMedia(text, []), []);
  });
});

describe("takeAnswerMedia", () => {
  const o = { policy, maxImageBytes: 1 << 20, maxFileBytes: 1 << 20, mediaHosts: [] };

  it("turns a PDF data URL into a document with the exact bytes and keeps the link text", async () => {
    const taken = await takeAnswerMedia(`Here is [report.pdf](${pdfUrl}).`, o);
    assert.equal(taken.text, "Here is report.pdf.");
    assert.equal(taken.media.length, 1);
    assert.equal(taken.media[0]!.mime, "application/pdf");
    assert.equal(taken.media[0]!.filename, "report.pdf");
    assert.ok(Buffer.from(taken.media[0]!.dataBase64, "base64").equals(pdf));
  });

  it("does not send bytes that are not what the link says, nor a file over the limit", async () => {
    const html = Buffer.from("<!doctype html><title>Sign in</title>").toString("base64");
    const fake = `[report.pdf](data:application/pdf;base64,${html})`;
    assert.deepEqual(await takeAnswerMedia(fake, o), { text: fake, media: [] });
    const big = `[report.pdf](${pdfUrl})`;
    assert.deepEqual(await takeAnswerMedia(big, { ...o, maxFileBytes: 10 }), { text: big, media: [] });
  });

  it("types text files from their bytes: CSV stays CSV, anything binary is refused", async () => {
    const csv = Buffer.from("a,b\n1,2\n");
    const taken = await takeAnswerMedia(`[data](data:text/csv;base64,${csv.toString("base64")})`, o);
    assert.deepEqual(
      taken.media.map((m) => [m.mime, m.filename]),
      [["text/csv", "data.csv"]],
    );
    assert.equal(documentMime(Buffer.from([0, 1, 2, 3, 0]), "text/csv", "x.csv"), undefined);
  });
});

describe("safeFilename", () => {
  it("drops paths and hostile characters and keeps an extension", () => {
    assert.equal(safeFilename("../../etc/passwd", "text/plain"), "passwd.txt");
    assert.equal(safeFilename('re"port<1>.pdf', "application/pdf"), "report1.pdf");
    assert.equal(safeFilename("   ", "application/pdf"), "file.pdf");
  });
});

describe("agent.answerMediaHosts", () => {
  it("still reads its earlier name, agent.answerImageHosts, and adds it to the new one", () => {
    const agent = (a: Record<string, unknown>) => configSchema.parse({ agent: a }).agent;
    assert.deepEqual(agent({ answerImageHosts: ["old.example"] }).answerMediaHosts, ["old.example"]);
    assert.deepEqual(
      agent({ answerMediaHosts: ["new.example"], answerImageHosts: ["old.example"] }).answerMediaHosts,
      ["new.example", "old.example"],
    );
    assert.equal("answerImageHosts" in agent({ answerImageHosts: ["old.example"] }), false);
    assert.deepEqual(agent({}).answerMediaHosts, []);
  });
});
