// A platform's file API, the shape most of them share: GET <base>/files/<id> with the bot's bearer token serves
// the bytes with their Content-Type and Content-Length; 401 with a JSON error for a wrong token, 404 for an
// unknown id. `lie` makes a file's declared length (and then its body) differ from what was registered, as a
// misbehaving server would. Downloads are recorded so tests can tell "refused before downloading" apart.
import { createServer, type Server } from "node:http";
import { closeServer, listenLocal } from "./shared.ts";

export interface HostedFile {
  bytes: Buffer;
  mime: string;
}

export class FakeFileHost {
  readonly files = new Map<string, HostedFile>();
  /** Ids whose bytes were served. */
  readonly downloads: string[] = [];
  readonly token: string;
  url = "";
  #server: Server;

  constructor(token = "file-host-token") {
    this.token = token;
    this.#server = createServer((req, res) => {
      const m = /^\/files\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "");
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "GET" || !m) return json(404, { ok: false, error: "not_found" });
      if (req.headers.authorization !== `Bearer ${this.token}`)
        return json(401, { ok: false, error: "invalid_auth" });
      const file = this.files.get(m[1]!);
      if (!file) return json(404, { ok: false, error: "file_not_found" });
      this.downloads.push(m[1]!);
      res.writeHead(200, { "content-type": file.mime, "content-length": file.bytes.length });
      res.end(file.bytes);
    });
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  add(id: string, bytes: Buffer, mime: string): string {
    this.files.set(id, { bytes, mime });
    return id;
  }

  async stop(): Promise<void> {
    await closeServer(this.#server);
  }
}
