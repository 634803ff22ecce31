// @ts-check
// Talking to the gateway: the bearer token (read from #token=… once and kept), JSON calls, and their errors
// worded for the person reading them.

const tokenFromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (tokenFromHash) {
  localStorage.setItem("clawgate-token", tokenFromHash);
  history.replaceState(null, "", location.pathname);
}
const token = localStorage.getItem("clawgate-token");
/** @type {Record<string, string>} */
export const authHeaders = token ? { authorization: `Bearer ${token}` } : {};

export class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @param {number} status @param {string | undefined} error */
export function explain(status, error) {
  if (status === 401) {
    return `${error || "not authorized"}. Open this page as /#token=<your webchat token> to sign in.`;
  }
  return error || `HTTP ${status}`;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>} the JSON the route answers with (docs/webchat-api.md)
 */
export async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { ...authHeaders, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new HttpError(res.status, explain(res.status, json.error));
  return json;
}

/** 32 hex characters. crypto.randomUUID exists only on https or localhost; getRandomValues works everywhere. */
export function randomId() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
