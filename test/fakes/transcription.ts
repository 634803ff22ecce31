// A fake OpenAI-compatible /v1/audio/transcriptions server: real HTTP, multipart/form-data parsed as a server
// parses it, OpenAI's error shapes and status codes (a wrong or missing key, a format it does not take, a
// missing field), and answers derived from the audio bytes so a test proves which audio arrived.
import { createHash } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface TranscriptionRequest {
  headers: IncomingHttpHeaders;
  /** Every non-file field as sent (model, language, response_format …). */
  fields: Record<string, string>;
  file?: { name: string; type: string; bytes: Buffer };
}

export interface FakeTranscriptionOptions {
  /** Require this bearer token, answering 401 like OpenAI otherwise. */
  apiKey?: string;
  /** Models it serves; another one gets OpenAI's 404 model_not_found. Default: any. */
  models?: string[];
  /** Answer the next N requests with this status and body. */
  failNext?: { count: number; status: number; body: unknown };
  /** Never answer (a server stuck loading a model), until stopped. */
  hang?: boolean;
}

/** OpenAI's list, in its order; it checks the file name's extension and the bytes. */
export const SUPPORTED = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"];

/** What the fake hears in audio nobody registered a transcript for: named by the bytes' hash. */
export function heardText(bytes: Buffer): string {
  return `heard ${sha256(bytes).slice(0, 16)} (${bytes.length} bytes)`;
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The container the bytes are, told from the signatures real audio files start with. */
function looksLikeAudio(b: Buffer): boolean {
  const at = (i: number, s: string) => b.toString("latin1", i, i + s.length) === s;
  return (
    (at(0, "RIFF") && at(8, "WAVE")) ||
    at(0, "ID3") ||
    (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0) ||
    at(0, "OggS") ||
    at(0, "fLaC") ||
    at(4, "ftyp") ||
    b.readUInt32BE(0) === 0x1a45dfa3
  );
}

const error = (message: string, code: string | null = null, param: string | null = null) => ({
  error: { message, type: "invalid_request_error", param, code },
});

export class FakeTranscriptionServer {
  readonly requests: TranscriptionRequest[] = [];
  /** Transcript per sha256 (hex) of the audio bytes; others get heardText(bytes). */
  readonly transcripts = new Map<string, string>();
  options: FakeTranscriptionOptions;
  /** The endpoint, http://127.0.0.1:<port>/v1/audio/transcriptions. */
  url = "";
  base = "";
  #server: Server;

  constructor(options: FakeTranscriptionOptions = {}) {
    this.options = options;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.base = await listenLocal(this.#server);
    this.url = `${this.base}/v1/audio/transcriptions`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.#server);
  }

  /** Registers what the fake "hears" in these exact bytes. */
  say(bytes: Buffer, text: string): void {
    this.transcripts.set(sha256(bytes), text);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const send = (status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const raw = await readBody(req);
    if (this.options.hang) return;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "POST" || path !== "/v1/audio/transcriptions")
      return send(404, error(`Invalid URL (${req.method} ${path})`));

    // Every request is recorded, refused ones too, so a test can tell "refused" from "never sent".
    const request: TranscriptionRequest = { headers: req.headers, fields: {} };
    this.requests.push(request);
    const contentType = req.headers["content-type"] ?? "";
    let form: FormData | undefined;
    if (contentType.startsWith("multipart/form-data")) {
      form = await new Request("http://fake/", {
        method: "POST",
        headers: { "content-type": contentType },
        body: new Uint8Array(raw),
      })
        .formData()
        .catch(() => undefined);
    }
    for (const [name, value] of form?.entries() ?? []) {
      if (typeof value === "string") request.fields[name] = value;
      else if (name === "file")
        request.file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
    }

    const key = this.options.apiKey;
    if (key) {
      const auth = req.headers.authorization ?? "";
      if (!auth.startsWith("Bearer "))
        return send(
          401,
          error(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          ),
        );
      const given = auth.slice(7);
      if (given !== key) {
        const masked =
          given.length > 8 ? `${given.slice(0, 3)}${"*".repeat(given.length - 7)}${given.slice(-4)}` : given;
        return send(
          401,
          error(
            `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            "invalid_api_key",
          ),
        );
      }
    }

    if (!contentType.startsWith("multipart/form-data"))
      return send(400, error(`Invalid Content-Type header (${contentType}), expected multipart/form-data.`));
    if (!form) return send(400, error("Could not parse multipart form"));
    const fail = this.options.failNext;
    if (fail && fail.count > 0) {
      fail.count--;
      return send(fail.status, fail.body);
    }
    const model = request.fields.model;
    if (!model) return send(400, error("you must provide a model parameter", null, "model"));
    if (this.options.models && !this.options.models.includes(model))
      return send(
        404,
        error(`The model \`${model}\` does not exist or you do not have access to it.`, "model_not_found"),
      );
    const file = request.file;
    if (!file)
      return send(400, error("1 validation error for Request\nbody -> file\n  field required", null, "file"));
    const ext = file.name.includes(".") ? file.name.slice(file.name.lastIndexOf(".") + 1).toLowerCase() : "";
    if (!SUPPORTED.includes(ext) || file.bytes.length < 12 || !looksLikeAudio(file.bytes))
      return send(
        400,
        error(`Invalid file format. Supported formats: [${SUPPORTED.map((f) => `'${f}'`).join(", ")}]`),
      );
    const text = this.transcripts.get(sha256(file.bytes)) ?? heardText(file.bytes);
    const format = request.fields.response_format ?? "json";
    if (format === "text") return send(200, `${text}\n`, "text/plain; charset=utf-8");
    if (format !== "json")
      return send(
        400,
        error(`response_format '${format}' is not served by this fake`, null, "response_format"),
      );
    return send(200, { text });
  }
}
