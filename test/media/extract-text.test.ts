// What the agent reads from a file: the exact text of text files in the encodings people send, the text layer of
// real PDFs (written by hand in test/helpers/pdf.ts and parsed by unpdf), cut at the limit without splitting a
// character, and a clear error for a PDF that cannot be read.
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { textOfFile } from "../../src/media/extract/text.ts";
import { makePdf } from "../helpers/pdf.ts";

const MAX = 10_000;

test("a one-page PDF gives back its sentence and its page count", async () => {
  const pdf = makePdf([{ lines: ["The quick brown fox (a test) jumps over the lazy dog."] }]);
  const got = await textOfFile(pdf, { mime: "application/pdf", name: "fox.pdf", maxChars: MAX });
  assert.deepEqual(got, {
    text: "The quick brown fox (a test) jumps over the lazy dog.",
    truncated: false,
    pages: 1,
  });
});

test("a two-page PDF gives both pages in order, even when the platform called it a generic file", async () => {
  const pdf = makePdf([
    { lines: ["First page, first line."] },
    { lines: ["Second page.", "Last line \\ end."] },
  ]);
  const got = await textOfFile(pdf, { mime: "application/octet-stream", maxChars: MAX });
  assert.deepEqual(got, {
    text: "First page, first line.\nSecond page.\nLast line \\ end.",
    truncated: false,
    pages: 2,
  });
});

test("a PDF with no text layer (a scan) gives empty text, so the caller can say so", async () => {
  const got = await textOfFile(makePdf([{ lines: [] }, { lines: [] }]), {
    mime: "application/pdf",
    maxChars: MAX,
  });
  assert.deepEqual(got, { text: "", truncated: false, pages: 2 });
});

test("a PDF's text is cut at maxChars and marked truncated", async () => {
  const pdf = makePdf([{ lines: ["0123456789 abcdefghij"] }]);
  assert.deepEqual(await textOfFile(pdf, { mime: "application/pdf", maxChars: 10 }), {
    text: "0123456789",
    truncated: true,
    pages: 1,
  });
});

test("a damaged PDF is a clear error naming the file, not a crash", async () => {
  const whole = makePdf([{ lines: ["Never read."] }]);
  for (const bytes of [Buffer.from("%PDF-1.4\nthis is not a PDF body\n"), whole.subarray(0, 120)]) {
    await assert.rejects(textOfFile(bytes, { mime: "application/pdf", name: "report.pdf", maxChars: MAX }), {
      name: "PdfReadError",
      message: /^the PDF report\.pdf could not be read: /,
    });
  }
  await assert.rejects(textOfFile(Buffer.from("hello"), { mime: "application/pdf", maxChars: MAX }), {
    message: "the PDF could not be read: the file does not start like a PDF",
  });
});

test("text files come back exactly, with the byte-order mark removed, in UTF-8 and UTF-16", async () => {
  const text = "name,city\nZoë,Köln\n😀,東京\n";
  const rows: [Buffer, string][] = [
    [Buffer.from(text), "UTF-8"],
    [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), "UTF-8 with BOM"],
    [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]), "UTF-16 LE"],
    [Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]), "UTF-16 BE"],
  ];
  for (const [bytes, what] of rows) {
    const got = await textOfFile(bytes, { mime: "text/csv", name: "cities.csv", maxChars: MAX });
    assert.deepEqual(got, { text, truncated: false }, what);
  }
});

test("source code is recognised by its file name when the platform declares a generic type", async () => {
  const code = 'fn main() {\n    println!("hi");\n}\n';
  const got = await textOfFile(Buffer.from(code), {
    mime: "application/octet-stream",
    name: "main.rs",
    maxChars: MAX,
  });
  assert.deepEqual(got, { text: code, truncated: false });
});

test("a text file in Windows-1252 (not UTF-8) is still read", async () => {
  const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0x35]); // "café €5"
  const got = await textOfFile(bytes, { mime: "text/plain", name: "menu.txt", maxChars: MAX });
  assert.deepEqual(got, { text: "café €5", truncated: false });
  const declaredUtf8 = await textOfFile(bytes, { mime: "text/plain; charset=utf-8", maxChars: MAX });
  assert.equal(declaredUtf8, undefined, "bytes that contradict a declared UTF-8 are not guessed at");
});

test("the cut never splits a character and counts what the agent would count", async () => {
  const text = `ab😀${"👍🏽".repeat(3)}`;
  const got = await textOfFile(Buffer.from(text), { mime: "text/plain", maxChars: 5 });
  assert.deepEqual(
    got,
    { text: "ab😀", truncated: true },
    "a surrogate pair or a skin-tone emoji is kept whole",
  );
  const exact = await textOfFile(Buffer.from("12345"), { mime: "text/plain", maxChars: 5 });
  assert.deepEqual(exact, { text: "12345", truncated: false });
});

test("images, binary files and files with NUL bytes are not text", async () => {
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: "#000" } })
    .png()
    .toBuffer();
  assert.equal(await textOfFile(png, { mime: "image/png", maxChars: MAX }), undefined);
  assert.equal(await textOfFile(png, { mime: "text/plain", name: "notes.txt", maxChars: MAX }), undefined);
  assert.equal(await textOfFile(Buffer.from("a\0b\0"), { mime: "text/plain", maxChars: MAX }), undefined);
  assert.equal(
    await textOfFile(Buffer.from("plain words"), { mime: "application/zip", maxChars: MAX }),
    undefined,
  );
});
