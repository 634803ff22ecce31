// A file over the size limit that applies to it (a download, an upload, a published file): refused with a
// message to the user, never truncated. In core so the URL guard, channels, media and the worker share it.

export class MediaTooLargeError extends Error {
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  constructor(message: string, limit = 0) {
    super(message);
    this.name = "MediaTooLargeError";
    this.limit = limit;
  }
}
