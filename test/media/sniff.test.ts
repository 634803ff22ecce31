// The type a file really has comes from its bytes, whatever the platform declared: each row is a real header
// (images encoded by sharp, container headers written out byte by byte as the formats specify them).
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { isTextLike, sniffMime } from "../../src/media/sniff.ts";

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** An ISO base media `ftyp` box with a major brand and compatible brands, then optional further boxes. */
function ftyp(major: string, compatible: string[], ...rest: Uint8Array[]): Uint8Array {
  const body = bytes(major, [0, 0, 2, 0], ...compatible);
  return Buffer.concat([bytes(be32(8 + body.length), "ftyp"), body, ...rest]);
}

/** A `trak` holding an `hdlr` box of the given handler type (soun, vide), as inside `moov`. */
function track(handler: string): Uint8Array {
  const hdlr = bytes(be32(33), "hdlr", [0, 0, 0, 0], [0, 0, 0, 0], handler, new Array(12).fill(0), [0]);
  return Buffer.concat([bytes(be32(8 + hdlr.length), "trak"), hdlr]);
}

function moov(...tracks: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(tracks);
  return Buffer.concat([bytes(be32(8 + body.length), "moov"), body]);
}

const image = (format: "jpeg" | "png" | "webp" | "gif" | "avif") =>
  sharp({ create: { width: 4, height: 3, channels: 3, background: "#c33" } })
    .toFormat(format)
    .toBuffer();

test("images encoded by sharp are recognised by their signature", async () => {
  const rows: [string, Uint8Array][] = [
    ["image/jpeg", await image("jpeg")],
    ["image/png", await image("png")],
    ["image/webp", await image("webp")],
    ["image/gif", await image("gif")],
    ["image/avif", await image("avif")],
  ];
  for (const [want, b] of rows) assert.equal(sniffMime(b), want, want);
});

test("container and stream headers map to the type a user would expect", () => {
  const rows: [string | undefined, Uint8Array, string][] = [
    ["application/pdf", bytes("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "PDF"],
    ["audio/ogg", bytes("OggS", [0, 2], new Array(20).fill(0), [1, 0x13], "OpusHead"), "Ogg Opus"],
    ["audio/ogg", bytes("OggS", [0, 2], new Array(20).fill(0), [1, 0x1e, 1], "vorbis"), "Ogg Vorbis"],
    ["audio/mpeg", bytes("ID3", [4, 0, 0, 0, 0, 0, 0], [0xff, 0xfb, 0x90, 0x64]), "MP3 with ID3v2"],
    ["audio/mpeg", bytes([0xff, 0xfb, 0x90, 0x64], new Array(8).fill(0)), "MP3 frame, MPEG-1 layer III"],
    ["audio/mpeg", bytes([0xff, 0xf3, 0x48, 0xc4], new Array(8).fill(0)), "MP3 frame, MPEG-2 layer III"],
    ["audio/aac", bytes([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc]), "ADTS AAC"],
    ["audio/flac", bytes("ID3", [4, 0, 0, 0, 0, 0, 0], "fLaC", [0, 0, 0, 34]), "FLAC after an ID3 tag"],
    ["audio/flac", bytes("fLaC", [0, 0, 0, 34]), "FLAC"],
    ["audio/wav", bytes("RIFF", [36, 0, 0, 0], "WAVEfmt ", [16, 0, 0, 0, 1, 0, 1, 0]), "WAV"],
    ["image/webp", bytes("RIFF", [26, 0, 0, 0], "WEBPVP8 "), "WebP"],
    ["audio/amr", bytes("#!AMR\n", [0x3c], new Array(31).fill(0)), "AMR-NB"],
    ["audio/amr-wb", bytes("#!AMR-WB\n", [0x44]), "AMR-WB"],
    [
      "video/webm",
      bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1], [0x42, 0x82, 0x84], "webm"),
      "WebM",
    ],
    ["video/x-matroska", bytes([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x82, 0x88], "matroska"), "Matroska"],
    ["application/zip", bytes("PK", [3, 4, 20, 0, 0, 0]), "ZIP"],
    ["audio/mp4", ftyp("M4A ", ["M4A ", "isom", "iso2"]), "M4A"],
    ["audio/mp4", ftyp("M4B ", ["M4B ", "isom"]), "M4B audiobook"],
    ["video/mp4", ftyp("isom", ["isom", "iso2", "avc1", "mp41"]), "MP4 without a track list"],
    ["video/mp4", ftyp("mp42", ["mp42", "isom"], moov(track("soun"), track("vide"))), "MP4 with video"],
    ["audio/mp4", ftyp("mp42", ["mp42", "isom"], moov(track("soun"))), "MP4 with only a sound track"],
    ["video/quicktime", ftyp("qt  ", ["qt  "]), "QuickTime"],
    ["audio/3gpp", ftyp("3gp4", ["3gp4", "isom"], moov(track("soun"))), "3GP voice note"],
    ["video/3gpp", ftyp("3gp5", ["3gp5"], moov(track("vide"), track("soun"))), "3GP video"],
    ["image/avif", ftyp("avif", ["mif1", "miaf"]), "AVIF"],
    ["image/heic", ftyp("heic", ["mif1", "heic"]), "HEIC"],
    ["image/heic", ftyp("mif1", ["mif1", "heic"]), "HEIF image with an HEVC brand"],
    ["image/heif", ftyp("mif1", ["mif1"]), "plain HEIF"],
    [undefined, bytes("hello, world\n"), "plain text"],
    [undefined, bytes([0xff, 0xff, 0xff, 0xff]), "0xFF run (reserved MPEG header)"],
    [undefined, bytes("RIFF", [4, 0, 0, 0], "XXXX"), "unknown RIFF"],
    [undefined, bytes("PK"), "too short"],
    [undefined, new Uint8Array(0), "empty"],
  ];
  for (const [want, b, what] of rows) assert.equal(sniffMime(b), want, what);
});

test("boxes are searched inside the view, not the whole pooled buffer behind it", () => {
  const video = ftyp("mp42", ["mp42"], moov(track("vide")));
  const voice = ftyp("mp42", ["mp42"], moov(track("soun")));
  const pool = Buffer.concat([video, voice]);
  assert.equal(sniffMime(pool.subarray(video.length)), "audio/mp4");
  assert.equal(sniffMime(pool.subarray(0, video.length)), "video/mp4");
});

test("text is recognised by clean UTF-8 plus a text type or a text file name", () => {
  const utf8 = Buffer.from("name,city\nZoë,Köln\n");
  const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("a,b\n", "utf16le")]);
  const rows: [boolean, Uint8Array, string | undefined, string | undefined, string][] = [
    [true, utf8, "text/csv", undefined, "text/csv"],
    [true, utf8, "application/octet-stream", "people.csv", "a .csv name under a generic type"],
    [true, utf8, undefined, "main.rs", "source code by extension"],
    [true, utf8, "application/json; charset=utf-8", undefined, "JSON with parameters"],
    [true, utf8, "application/vnd.api+json", undefined, "a +json type"],
    [true, utf8, undefined, "Dockerfile", "a well-known file name"],
    [true, utf16le, "text/plain", undefined, "UTF-16 with a byte-order mark"],
    [false, utf8, "application/octet-stream", "data.bin", "no text type and no text name"],
    [false, utf8, undefined, undefined, "nothing declared"],
    [false, Buffer.from("a\0b"), "text/plain", undefined, "a NUL byte"],
    [false, Buffer.from([0x61, 0xe9, 0x62]), "text/plain", "latin1.txt", "invalid UTF-8 (Latin-1 é)"],
    [false, utf8, "image/svg+xml", undefined, "an image type, even an XML one"],
  ];
  for (const [want, b, mime, name, what] of rows) assert.equal(isTextLike(b, mime, name), want, what);
});
