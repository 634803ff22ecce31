// Masks secrets for printing: anything whose key looks like a credential, and passwords inside URLs.

const SECRET_KEY = /(token|secret|password|apikey|api_key|accesstoken|aeskey|privatekey|auth)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_]/g, ""));
}

export function maskSecret(value: string): string {
  if (value.length === 0) return "";
  return value.length > 12 ? `${value.slice(0, 2)}…(${value.length} chars, masked)` : "********";
}

export function maskConfig<T>(value: T, key = ""): T {
  if (typeof value === "string") {
    if (key && isSecretKey(key)) return maskSecret(value) as T;
    return value.replace(/(\w+:\/\/[^:/@\s]+:)([^@/\s]+)@/g, "$1********@") as T;
  }
  if (Array.isArray(value)) return value.map((v) => maskConfig(v, key)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskConfig(v, k);
    return out as T;
  }
  return value;
}
