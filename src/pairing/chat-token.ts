// A paired device's web chat credential: one bearer string `<deviceId>.<token>` (device ids and base64url tokens
// never contain a dot), so the web app needs one value where the bridge takes two headers. The link that opens
// the web app carries it in the fragment, which browsers never send to the server (nor to its logs).
import type { DeviceRecord, IssuedToken } from "./devices.ts";

const CHAT_TOKEN = /^(dev_[a-z0-9]{1,32})\.([A-Za-z0-9_-]{16,200})$/;

export function chatToken(issued: Pick<IssuedToken, "deviceId" | "token">): string {
  return `${issued.deviceId}.${issued.token}`;
}

/** The device id and token of a bearer string shaped like a device's chat token; undefined for anything else. */
export function parseChatToken(bearer: string): { deviceId: string; token: string } | undefined {
  const m = CHAT_TOKEN.exec(bearer);
  return m ? { deviceId: m[1]!, token: m[2]! } : undefined;
}

/** The address that opens the web app signed in as the device (only for devices holding the chat scope). */
export function chatUrl(baseUrl: string, issued: IssuedToken): string | undefined {
  if (!issued.scopes.includes("chat")) return undefined;
  return `${baseUrl.replace(/\/+$/, "")}/#token=${encodeURIComponent(chatToken(issued))}`;
}

/** Whether a session opened with the device's token `tokenId` may go on: not revoked, not expired, still `chat`. */
export function chatTokenLive(device: DeviceRecord | undefined, tokenId: string, now = Date.now()): boolean {
  const t = device?.tokens.find((x) => x.id === tokenId);
  return (
    !!device &&
    !!t &&
    !device.revokedAt &&
    !t.revokedAt &&
    t.expiresAt > now &&
    device.scopes.includes("chat")
  );
}
