// Posts a late SkillResponse to the one-time callback URL Kakao put in the request. Kakao allows each URL once
// and for one minute, so a used or expired URL is a permanent failure, not a retry.
import { createHash } from "node:crypto";
import type { Store } from "../../store/types.ts";
import { platformFetch } from "../shared/platform-fetch.ts";
import { PermanentDeliveryError } from "../types.ts";
import type { SkillResponse } from "./format.ts";

const USED_NAMESPACE = "kakao-callback-used";
export const CALLBACK_VALID_MS = 60_000;

export async function postCallback(
  store: Store,
  callbackUrl: string,
  receivedAt: number,
  response: SkillResponse,
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
  const { body } = await platformFetch<{ status?: string; message?: string }>(callbackUrl, {
    what: "Kakao skill callback",
    body: response,
    timeoutMs: 10_000,
  });
  await store.kvSet(USED_NAMESPACE, key, "1", CALLBACK_VALID_MS * 2);
  if (body && typeof body === "object" && body.status && body.status !== "SUCCESS") {
    throw new PermanentDeliveryError(`Kakao skill callback answered ${body.status}: ${body.message ?? ""}`);
  }
}
