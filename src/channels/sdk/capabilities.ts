// The capabilities record every adapter declares: what the gateway may do with the channel (edit a sent
// message, send buttons or files), stated once instead of found out by looking for methods.
import type { ChannelCapabilities } from "../types.ts";

/** Everything off except what the channel states; the longest message is always stated. */
export function capabilities(
  stated: Partial<ChannelCapabilities> & Pick<ChannelCapabilities, "maxTextLength">,
): Readonly<ChannelCapabilities> {
  return Object.freeze({
    edit: false,
    livePreview: false,
    answersPresses: false,
    threads: false,
    media: false,
    downloads: false,
    buttons: false,
    minEditIntervalMs: 0,
    ...stated,
  });
}
