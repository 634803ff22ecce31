// Posts a late SkillResponse to the one-time callback URL Kakao put in the request. Kakao allows each URL once
// and for one minute, so a used or expired URL is a permanent failure, not a retry. The URL came from an
// unsigned request: it goes through the URL guard (private addresses refused unless the operator wrote the
// origin in callbackHosts) and a redirect is never followed, wherever it points.
import { createHash } from "node:crypto";
import {
  type FetchPolicy,
  guardedFetch,
  RedirectRefusedError,
  UrlRefusedError,
} from "../../security/url-guard.ts";
import type { Store } from "../../store/types.ts";
import { retryAfterMs } from "../shared/platform-fetch.ts";
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";
import { callbackAllowed, type HostRule } from "./callback-hosts.ts";
import type { SkillResponse } from "./format.ts";

const USED_NAMESPACE = "kakao-callback-used";
export const CALLBACK_VALID_MS = 60_000;

export interface CallbackGuard {
  rules: HostRule[];
  policy: FetchPolicy;
}

export async function postCallback(
  store: Store,
  callbackUrl: string,
  receivedAt: number,
  response: SkillResponse,
  guard: CallbackGuard,
): Promise<void> {
  if (Date.now() - receivedAt > CALLBACK_VALID_MS) {
    throw new PermanentDeliveryError(
      "Kakao callback URL expired (Kakao allows one minute); the answer came too late",
    );
  }
  const key = createHash("sha256").update(callbackUrl).digest("hex");
  if (await store.kvGet(USED_NAMESPACE, key)) {
    throw new PermanentDeliveryError(
      "Kakao callback URL was already used (Kakao accepts one answer per request)",
    );
  }
  let res: Awaited<ReturnType<typeof guardedFetch>>;
  try {
    res = await guardedFetch(callbackUrl, guard.policy, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(response),
      maxBytes: 64 * 1024,
      timeoutMs: 10_000,
      checkUrl: (u) =>
        callbackAllowed(guard.rules, u) ? undefined : "its host is not in the Kakao callbackHosts allowlist",
    });
  } catch (err) {
    if (err instanceof UrlRefusedError || err instanceof RedirectRefusedError) {
      throw new PermanentDeliveryError(`Kakao skill callback: ${err.message}`);
    }
    throw new Error(`Kakao skill callback: network error (${(err as Error).message})`, { cause: err });
  }
  let body: { status?: string; message?: string } | undefined;
  try {
    body = JSON.parse(res.body.toString("utf8"));
  } catch {
    body = undefined;
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
  if (res.status === 429) {
    throw new RateLimitedError(retryAfterMs(headers, body), "Kakao skill callback: HTTP 429 rate limited");
  }
  const detail = `${body?.status ?? ""} ${body?.message ?? ""}`.trim();
  if (res.status >= 500) throw new Error(`Kakao skill callback: HTTP ${res.status} ${detail}`);
  if (res.status < 200 || res.status >= 300) {
    throw new PermanentDeliveryError(`Kakao skill callback: HTTP ${res.status} ${detail}`);
  }
  await store.kvSet(USED_NAMESPACE, key, "1", CALLBACK_VALID_MS * 2);
  if (body && typeof body === "object" && body.status && body.status !== "SUCCESS") {
    throw new PermanentDeliveryError(`Kakao skill callback answered ${body.status}: ${body.message ?? ""}`);
  }
}
