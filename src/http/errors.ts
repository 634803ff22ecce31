// One error type for "answer the caller with this status and reason": a handler throws it, and the server
// (src/http/server.ts) turns it into `{ ok: false, error }` with that status in one place.
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}
