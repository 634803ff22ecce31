// The streaming multipart reader: the same parts whatever way the body is cut into chunks (a delimiter split
// across two chunks included), caps enforced while reading, malformed bodies refused with 400.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  type MultipartError,
  multipartBoundary,
  readMultipart,
  safeFileName,
} from "../../src/workspaces/multipart.ts";
import { BOUNDARY, multipartBody } from "./helpers.ts";

const limits = { maxFileBytes: 100_000, maxFiles: 1, maxFieldBytes: 100, maxParts: 4 };

async function* chunks(body: Buffer, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

describe("multipart reader", () => {
  const bytes = Buffer.concat([
    randomBytes(3000),
    Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}`),
    randomBytes(50),
  ]);
  const body = multipartBody([
    { name: "pinned", data: "true" },
    { name: "file", filename: "data.bin", mime: "application/octet-stream", data: bytes },
  ]);

  for (const size of [1, 7, 64, 1000, body.length]) {
    it(`reads the same parts from ${size}-byte chunks`, async () => {
      const out = await readMultipart(chunks(body, size), BOUNDARY, limits);
      assert.deepEqual(out.fields, { pinned: "true" });
      assert.equal(out.files.length, 1);
      assert.equal(out.files[0]!.filename, "data.bin");
      assert.ok(out.files[0]!.bytes.equals(bytes), "exact bytes, a near-delimiter inside included");
    });
  }

  it("fails as soon as a file passes its cap", async () => {
    let read = 0;
    async function* counted() {
      for await (const c of chunks(
        multipartBody([{ name: "file", filename: "x", data: Buffer.alloc(1_000_000) }]),
        1000,
      )) {
        read += c.length;
        yield c;
      }
    }
    await assert.rejects(readMultipart(counted(), BOUNDARY, limits), (e: MultipartError) => e.status === 413);
    assert.ok(read < 110_000, `stopped reading after ${read} bytes`);
  });

  it("refuses malformed bodies with 400", async () => {
    const bad = async (b: string | Buffer) =>
      assert.rejects(
        readMultipart(chunks(Buffer.from(b), 50), BOUNDARY, limits),
        (e: MultipartError) => e.status === 400,
      );
    await bad(body.subarray(0, body.length - 8));
    await bad(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--`);
    await bad(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${BOUNDARY}--`);
    await bad(`--${BOUNDARY}\r\n${"X: y\r\n".repeat(3000)}\r\nx`);
    await bad("x".repeat(5000));
    await bad(
      multipartBody([
        { name: "file", filename: "a", data: "1" },
        { name: "file", filename: "b", data: "2" },
      ]),
    );
  });

  it("finds the boundary of a form-data content type only", () => {
    assert.equal(multipartBoundary(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
    assert.equal(multipartBoundary('multipart/form-data; boundary="a b"'), "a b");
    assert.equal(multipartBoundary("multipart/mixed; boundary=x"), undefined);
    assert.equal(multipartBoundary("application/json"), undefined);
    assert.equal(multipartBoundary(undefined), undefined);
  });

  it("keeps a file name's last segment and refuses control characters", () => {
    assert.deepEqual(safeFileName("../../etc/passwd"), { name: "passwd" });
    assert.deepEqual(safeFileName("C:\\Users\\me\\notes.txt"), { name: "notes.txt" });
    assert.deepEqual(safeFileName("report.pdf"), { name: "report.pdf" });
    assert.ok("error" in safeFileName("a\u0000b"));
    assert.ok("error" in safeFileName("a\nb"));
    assert.ok("error" in safeFileName("dir/"));
    assert.ok("error" in safeFileName(".."));
  });
});
