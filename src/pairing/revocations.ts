// Revocations as they happen in this process, so whoever holds a device's open sessions (the web chat's SSE
// streams and WebSockets) can end them at once instead of at the next request. Listeners must not throw.
export type RevocationListener = (deviceId: string, tokenId?: string) => void;

const listeners = new Set<RevocationListener>();

/** Called for every committed revoke: a whole device (no tokenId) or one of its tokens. Returns the unsubscribe. */
export function onDeviceRevoked(listener: RevocationListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function announceRevoked(deviceId: string, tokenId?: string) {
  for (const l of listeners) l(deviceId, tokenId);
}
