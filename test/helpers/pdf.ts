// Writes small, valid PDF files by hand (PDF 1.4: catalog, page tree, pages, Helvetica, one content stream per
// page, a cross-reference table with the real byte offsets), so tests parse real documents without a PDF library.

export interface PdfPage {
  /** Lines drawn top to bottom in 12 pt Helvetica; an empty list makes a page with no text (like a scan). */
  lines: string[];
}

/** Escapes a string for a PDF literal string: backslash and parentheses. */
const literal = (s: string) => `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;

export function makePdf(pages: PdfPage[]): Buffer {
  // Objects: 1 catalog, 2 page tree, 3 font, then per page: the page and its content stream.
  const objects: string[] = [];
  const pageIds = pages.map((_, i) => 4 + i * 2);
  objects[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`;
  objects[3] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
  pages.forEach((page, i) => {
    const id = pageIds[i]!;
    const ops = page.lines.length
      ? `BT /F1 12 Tf 72 720 Td 14 TL ${page.lines.map((l) => `${literal(l)} Tj T*`).join(" ")} ET`
      : "0.5 g 72 72 468 648 re f";
    objects[id] =
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " +
      `/Resources << /Font << /F1 3 0 R >> >> /Contents ${id + 1} 0 R >>`;
    objects[id + 1] = `<< /Length ${Buffer.byteLength(ops, "latin1")} >>\nstream\n${ops}\nendstream`;
  });

  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out, "latin1");
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}
