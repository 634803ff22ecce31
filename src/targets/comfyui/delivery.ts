// Queues a job's message for its chat. Images for a chat whose history is shown again (the web chat: a tab
// opened after the job ended sees only history) are also kept in the media store and referenced from the
// history entry, which is then written here instead of by deliver() (once: only when the outbox took it).
import type { MediaItem, OutboundMessage } from "../../channels/types.ts";
import type { DeliveryAddress } from "../../core/event.ts";
import type { GatewayServices } from "../../gateway/services.ts";
import { keepInHistory } from "../../media/history-refs.ts";
import { MediaStore } from "../../media/store.ts";

/** Channels whose history is shown to users again (and so needs the images in it). */
const HISTORY_WITH_MEDIA = new Set(["webchat"]);
/** As long as the job record. */
const HISTORY_MEDIA_KEEP_SEC = 30 * 86_400;

export async function deliverToChat(
  services: GatewayServices,
  to: { deliverTo: DeliveryAddress; sessionKey: string },
  message: OutboundMessage,
  idempotencyKey: string,
  images: MediaItem[] = [],
) {
  const keep = images.length > 0 && HISTORY_WITH_MEDIA.has(to.deliverTo.channel) && message.text;
  const r = await services.deliver(
    to.deliverTo,
    message,
    idempotencyKey,
    keep ? { record: false } : undefined,
  );
  if (keep && r.inserted) {
    const files = new MediaStore(services.store);
    await services.record(
      to.sessionKey,
      "system",
      await keepInHistory(files, to.sessionKey, keep, images, HISTORY_MEDIA_KEEP_SEC),
    );
  }
}
