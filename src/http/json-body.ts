// The one reader for JSON-object request bodies: anything else (invalid JSON, arrays, scalars) is undefined, so
// the caller answers 400 with a reason. An empty body counts as `{}` only where the caller says so (optional
// fields); webhooks require a body.
export function readJsonObject(
  body: Buffer,
  opts: { emptyIsObject?: boolean } = {},
): Record<string, unknown> | undefined {
  const text = body.toString("utf8");
  if (!text && opts.emptyIsObject) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
