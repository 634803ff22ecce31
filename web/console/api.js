// Every action is an admin API call; failures carry the server's error (and problems list) to the page.
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = {};
  try {
    json = await res.json();
  } catch {
    // 204 and non-JSON answers have no body to read.
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/console/api/session"))
      window.dispatchEvent(new Event("console:signed-out"));
    const err = new Error(json.error || `${method} ${path} failed with HTTP ${res.status}`);
    err.status = res.status;
    err.problems = Array.isArray(json.problems) ? json.problems : undefined;
    throw err;
  }
  return json;
}

export const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
};
