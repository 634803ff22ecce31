// A fake ComfyUI: the real HTTP routes (also under /api) and the /ws event stream with the message sequence a
// real server sends, a one-at-a-time execution queue, real PNG outputs from sharp, prompt validation with
// node_errors, execution_error and interrupts. Tests control timing and can hold jobs and finish them later,
// e.g. while no client is connected.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import sharp from "sharp";
import { type WebSocket, WebSocketServer } from "ws";
import { closeServer, listenLocal, readBody } from "./shared.ts";

type Node = { class_type: string; inputs: Record<string, unknown> };
type Workflow = Record<string, Node>;

interface QueuedPrompt {
  number: number;
  promptId: string;
  prompt: Workflow;
  clientId?: string;
  extraData: Record<string, unknown>;
  createdAt: number;
}

export interface FakeComfyOptions {
  /** Sampler steps reported as progress events. */
  steps?: number;
  /** Delay between progress steps. */
  stepMs?: number;
  /** Jobs wait in the queue until release() is called. */
  hold?: boolean;
  /** Images per SaveImage node. */
  imagesPerJob?: number;
  /** Serve the ComfyUI-OpenClaw extension's /openclaw/* routes, requiring this X-OpenClaw-Admin-Token. */
  openclawToken?: string;
  /**
   * Use a client-chosen `prompt_id` from POST /prompt (ComfyUI since mid-2025:
   * `prompt_id = str(json_data.get("prompt_id", uuid.uuid4()))`, duplicates are not refused). false is the
   * 2024 server that ignores the field and answers with its own random id.
   */
  honorPromptId?: boolean;
  /**
   * POST /prompt queues the job at once but answers only after this many ms (a busy CPU server): the client
   * may time out although the job is queued and then runs.
   */
  answerDelayMs?: number;
  /**
   * POST /interrupt honours `prompt_id` (ComfyUI since 2025). false is the 2024 server: it interrupts whatever
   * is running, whichever id was sent.
   */
  interruptByPromptId?: boolean;
  /** A CPU-only server outside a git checkout: device "cpu" (its "VRAM" is system RAM), version "unknown". */
  cpuOnly?: boolean;
  /** Answer GET /openclaw/jobs with 501 jobs_host_contract_unsupported (the extension on an older ComfyUI). */
  openclawJobsUnsupported?: boolean;
  /** Templates the extension lists (GET /openclaw/templates), with their allowed inputs. */
  openclawTemplates?: { id: string; allowed_inputs?: string[] }[];
}

const KNOWN_NODES = new Set([
  "CheckpointLoaderSimple",
  "CLIPTextEncode",
  "KSampler",
  "EmptyLatentImage",
  "VAEDecode",
  "SaveImage",
  "PreviewImage",
  "LoadImage",
  "VAEEncode",
]);
const OUTPUT_NODES = new Set(["SaveImage", "PreviewImage"]);

export class FakeComfyUI {
  readonly options: Required<FakeComfyOptions>;
  /** Every accepted POST /prompt, in order. */
  readonly submissions: QueuedPrompt[] = [];
  /** Every /prompt request, including refused ones. */
  readonly promptRequests: unknown[] = [];
  readonly interrupts: unknown[] = [];
  /** Every request as "METHOD /path" (without the query), in order. */
  readonly requestLog: string[] = [];
  /** Every POST /upload/image that stored a file: the form fields and the exact bytes. */
  readonly uploads: { name: string; subfolder: string; type: string; overwrite?: string; bytes: Buffer }[] =
    [];
  /** Answer the next POST /upload/image with aiohttp's 500 (a full disk, an input folder it cannot write). */
  failNextUpload = false;
  /** Set to make the next executed job fail at a node with execution_error. */
  failNext: { nodeId?: string; message: string } | undefined;
  /** GET /system_stats requests seen (health checks). */
  statsRequests = 0;
  /** While set, GET /system_stats waits for this promise before answering (a health check in flight). */
  statsGate: Promise<void> | undefined;
  /** Drop the next POST /prompt unanswered and unqueued (a server restarted while the request was in flight). */
  dropNextSubmit = false;
  /** While set, every HTTP request waits for this promise before it is handled (a stalled server). */
  stallGate: Promise<void> | undefined;
  /** Requests that have waited at stallGate ("GET /history/<id>"), to know a client is stuck there. */
  readonly stalled: string[] = [];
  /** Bodies of the extension's POST routes, by path (what the extension read). */
  readonly openclawRequests: { key: string; body: Record<string, unknown> }[] = [];
  /** Pending approvals on the extension: id → the trigger that asked. */
  readonly openclawApprovals = new Map<string, Record<string, unknown>>();
  /** Make the next approve answer with execution_error instead of running the job. */
  openclawApproveError: string | undefined;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #clients = new Map<string, Set<WebSocket>>();
  readonly #queue: QueuedPrompt[] = [];
  readonly #history = new Map<string, Record<string, unknown>>();
  readonly #files = new Map<string, Buffer>();
  #running: QueuedPrompt | undefined;
  #interruptRequested = false;
  #number = 0;
  #fileSeq = 0;
  #approvalSeq = 0;
  #held = new Set<string>();
  #png: Buffer | undefined;
  url = "";

  constructor(options: FakeComfyOptions = {}) {
    this.options = {
      steps: 3,
      stepMs: 20,
      hold: false,
      imagesPerJob: 1,
      openclawToken: "",
      honorPromptId: true,
      interruptByPromptId: true,
      cpuOnly: false,
      answerDelayMs: 0,
      openclawJobsUnsupported: false,
      openclawTemplates: [{ id: "txt2img", allowed_inputs: ["prompt", "steps"] }],
      ...options,
    };
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err: Error) => {
        if (!res.headersSent) json(res, 500, { error: err.message });
      });
    });
    this.#server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname !== "/ws" && url.pathname !== "/api/ws") return socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) =>
        this.#onSocket(ws, url.searchParams.get("clientId")),
      );
    });
  }

  static async start(options: FakeComfyOptions = {}): Promise<FakeComfyUI> {
    const fake = new FakeComfyUI(options);
    await fake.listen();
    return fake;
  }

  async listen(port = 0) {
    this.url = await listenLocal(this.#server, port);
  }

  /** Stops answering: connections are refused afterwards (a ComfyUI that is down). */
  async close() {
    for (const set of this.#clients.values()) for (const ws of set) ws.terminate();
    await closeServer(this.#server);
  }

  /** WebSocket clients connected right now. */
  connectedClients(): number {
    let n = 0;
    for (const s of this.#clients.values()) n += s.size;
    return n;
  }

  /** Lets held jobs run (all, or one). */
  release(promptId?: string) {
    if (promptId) this.#held.delete(promptId);
    else this.#held.clear();
    this.options.hold = false;
    void this.#pump();
  }

  historyOf(promptId: string) {
    return this.#history.get(promptId);
  }

  get queueRemaining(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  // ---- HTTP ----

  async #route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    const path =
      url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/jobs")
        ? url.pathname.slice(4)
        : url.pathname;
    if (req.method === "POST" && path === "/upload/image") {
      this.requestLog.push(`POST ${path}`);
      return this.#upload(req, res);
    }
    const body = req.method === "POST" ? await readJson(req) : undefined;
    // Stalled after reading the request: a submit the client gave up on is still handled when the stall ends.
    if (this.stallGate) {
      this.stalled.push(`${req.method} ${url.pathname}`);
      await this.stallGate;
    }
    if (req.method === "POST" && body === undefined) return json(res, 400, { error: "invalid JSON" });
    const key = `${req.method} ${path}`;
    this.requestLog.push(key);
    if (path.startsWith("/openclaw/")) return this.#openclaw(req, res, key, body as Record<string, unknown>);
    if (key === "GET /system_stats") {
      this.statsRequests++;
      if (this.statsGate) await this.statsGate;
      return json(res, 200, this.#systemStats());
    }
    if (key === "GET /prompt") return json(res, 200, { exec_info: { queue_remaining: this.queueRemaining } });
    if (key === "POST /prompt") {
      if (this.dropNextSubmit) {
        this.dropNextSubmit = false;
        this.promptRequests.push(body);
        req.socket.destroy();
        return;
      }
      const accepted = this.#submit(res, body as Record<string, unknown>, this.options.answerDelayMs);
      if (accepted && this.options.answerDelayMs) {
        await sleep(this.options.answerDelayMs);
        if (!res.destroyed) json(res, 200, accepted);
      }
      return;
    }
    if (key === "GET /queue") {
      const row = (q: QueuedPrompt) => [q.number, q.promptId, q.prompt, q.extraData, outputsOf(q.prompt)];
      return json(res, 200, {
        queue_running: this.#running ? [row(this.#running)] : [],
        queue_pending: this.#queue.map(row),
      });
    }
    if (key === "POST /queue") {
      const b = body as { clear?: boolean; delete?: string[] };
      if (b.clear) this.#queue.splice(0);
      for (const id of b.delete ?? []) {
        const i = this.#queue.findIndex((q) => q.promptId === id);
        if (i !== -1) this.#queue.splice(i, 1);
      }
      this.#broadcastStatus();
      return json(res, 200, {});
    }
    if (key === "POST /interrupt") {
      this.interrupts.push(body);
      const id = (body as { prompt_id?: string }).prompt_id;
      const targeted = id && this.options.interruptByPromptId;
      if (this.#running && (!targeted || id === this.#running.promptId)) this.#interruptRequested = true;
      return json(res, 200, {});
    }
    if (key === "GET /history") {
      // ?max_items=N: the N most recent entries, as ComfyUI's get_history(max_items) does.
      const max = Number(url.searchParams.get("max_items") ?? "");
      const all = [...this.#history.entries()];
      return json(res, 200, Object.fromEntries(Number.isInteger(max) && max > 0 ? all.slice(-max) : all));
    }
    if (req.method === "GET" && path.startsWith("/history/")) {
      const id = decodeURIComponent(path.slice("/history/".length));
      const entry = this.#history.get(id);
      return json(res, 200, entry ? { [id]: entry } : {});
    }
    if (key === "GET /view") {
      const sub = url.searchParams.get("subfolder");
      const file = this.#files.get(
        `${url.searchParams.get("type") ?? "output"}/${sub ? `${sub}/` : ""}${url.searchParams.get("filename")}`,
      );
      if (!file) return json(res, 404, { error: "file not found" });
      // ComfyUI's view_image types the file by its name (mimetypes.guess_type).
      const ext = (url.searchParams.get("filename") ?? "").split(".").pop()?.toLowerCase() ?? "";
      const type = {
        png: "image/png",
        jpg: "image/jpeg",
        jpeg: "image/jpeg",
        webp: "image/webp",
        gif: "image/gif",
      }[ext];
      res.writeHead(200, {
        "content-type": type ?? "application/octet-stream",
        "content-length": file.length,
      });
      return res.end(file);
    }
    if (key === "GET /api/jobs") return json(res, 200, this.#jobs());
    if (key === "POST /api/jobs/cancel") {
      for (const id of (body as { job_ids?: string[] }).job_ids ?? []) this.#cancel(id);
      return json(res, 200, {});
    }
    const cancel = /^\/api\/jobs\/([^/]+)\/cancel$/.exec(path);
    if (req.method === "POST" && cancel) {
      this.#cancel(decodeURIComponent(cancel[1]!));
      return json(res, 200, {});
    }
    return notFound(res);
  }

  /**
   * The ComfyUI-OpenClaw extension: a constant-time token check in the real one; equality is enough here.
   * A route that does not exist gets aiohttp's plain-text "404: Not Found" (what ComfyUI answers without the
   * extension); a route that exists answers an unknown object with a JSON 404 ({ok:false, error}).
   */
  #openclaw(req: IncomingMessage, res: ServerResponse, key: string, body: Record<string, unknown>) {
    const token = this.options.openclawToken;
    if (!token) return notFound(res);
    if (req.headers["x-openclaw-admin-token"] !== token)
      return json(res, 403, { ok: false, error: "forbidden" });
    if (req.method === "POST") this.openclawRequests.push({ key, body });
    const path = key.slice(key.indexOf(" ") + 1);
    if (key === "GET /openclaw/health") return json(res, 200, { ok: true, version: "1.0.7" });
    if (key === "GET /openclaw/templates")
      return json(res, 200, { ok: true, templates: this.options.openclawTemplates });
    if (key === "GET /openclaw/jobs") {
      if (this.options.openclawJobsUnsupported)
        return json(res, 501, {
          ok: false,
          error: "jobs_host_contract_unsupported",
          detail: "this ComfyUI has no /api/jobs",
        });
      return json(res, 200, { ok: true, jobs: this.#jobs().jobs });
    }
    if (key === "GET /openclaw/approvals")
      return json(res, 200, {
        ok: true,
        approvals: [...this.openclawApprovals.entries()].map(([id, t]) => ({
          approval_id: id,
          template_id: t.template_id,
          status: "pending",
          expires_at: "2030-01-01T00:00:00Z",
        })),
      });
    if (key === "GET /openclaw/schedules")
      return json(res, 200, {
        ok: true,
        schedules: [{ schedule_id: "sch_nightly", name: "nightly", template_id: "txt2img", enabled: true }],
      });
    if (key === "POST /openclaw/triggers/fire") {
      const known = this.options.openclawTemplates.some((t) => t.id === body.template_id);
      if (!known) return json(res, 404, { ok: false, error: "template_not_found" });
      if (body.require_approval) {
        const id = `apr_fake${String(++this.#approvalSeq).padStart(6, "0")}`;
        this.openclawApprovals.set(id, body);
        return json(res, 202, {
          ok: true,
          pending: true,
          approval_id: id,
          expires_at: "2030-01-01T00:00:00Z",
        });
      }
      const promptId = this.#extensionSubmit(body);
      return json(res, 200, {
        triggered: true,
        prompt_id: promptId,
        trace_id: body.trace_id,
        deduped: false,
      });
    }
    const approval = /^\/openclaw\/approvals\/([^/]+)\/(approve|reject)$/.exec(path);
    if (req.method === "POST" && approval) {
      const id = decodeURIComponent(approval[1]!);
      const trigger = this.openclawApprovals.get(id);
      if (!trigger) return json(res, 404, { ok: false, error: "approval_not_found" });
      this.openclawApprovals.delete(id);
      if (approval[2] === "reject") return json(res, 200, { ok: true, approval_id: id, status: "rejected" });
      const failure = this.openclawApproveError;
      this.openclawApproveError = undefined;
      if (failure)
        return json(res, 200, {
          ok: true,
          approval_id: id,
          status: "approved",
          executed: false,
          execution_error: failure,
        });
      const promptId = this.#extensionSubmit(trigger);
      return json(res, 200, {
        ok: true,
        approval_id: id,
        status: "approved",
        executed: true,
        prompt_id: promptId,
      });
    }
    const schedule = /^\/openclaw\/schedules\/([^/]+)\/run$/.exec(path);
    if (req.method === "POST" && schedule) {
      if (decodeURIComponent(schedule[1]!) !== "sch_nightly")
        return json(res, 404, { ok: false, error: "schedule_not_found" });
      const promptId = this.#extensionSubmit({ template_id: "txt2img", inputs: {} });
      return json(res, 200, { ok: true, schedule_id: "sch_nightly", prompt_id: promptId });
    }
    const trace = /^\/openclaw\/trace\/([^/]+)$/.exec(path);
    if (req.method === "GET" && trace) {
      const id = decodeURIComponent(trace[1]!);
      if (!this.submissions.some((q) => q.promptId === id))
        return json(res, 404, { ok: false, error: "trace_not_found" });
      return json(res, 200, { ok: true, prompt_id: id, events: [] });
    }
    return notFound(res);
  }

  /** The extension queues the template with its own random client id: its events reach no other client. */
  #extensionSubmit(trigger: Record<string, unknown>): string {
    const prompt: Workflow = {
      "3": { class_type: "KSampler", inputs: { steps: 2 } },
      "9": { class_type: "SaveImage", inputs: { filename_prefix: "openclaw" } },
    };
    const fake = { writeHead: () => fake, end: () => {} } as unknown as ServerResponse;
    this.#submit(fake, {
      prompt,
      client_id: `openclaw-${randomUUID().replace(/-/g, "")}`,
      extra_data: { openclaw: { inputs: trigger.inputs } },
    });
    return this.submissions.at(-1)!.promptId;
  }

  /** Queues a valid prompt; with `defer`, returns the answer instead of sending it (the caller sends it late). */
  #submit(
    res: ServerResponse,
    body: Record<string, unknown>,
    defer = 0,
  ): Record<string, unknown> | undefined {
    this.promptRequests.push(body);
    const prompt = body.prompt as Workflow | undefined;
    if (!prompt || typeof prompt !== "object") {
      return json(res, 400, {
        error: {
          type: "no_prompt",
          message: "No prompt provided",
          details: "No prompt provided",
          extra_info: {},
        },
        node_errors: {},
      });
    }
    for (const [id, node] of Object.entries(prompt)) {
      if (!node || typeof node !== "object" || !KNOWN_NODES.has(node.class_type)) {
        return json(res, 400, {
          error: {
            type: "invalid_prompt",
            message: `Cannot execute because node ${node?.class_type} does not exist.`,
            details: `Node ID '#${id}'`,
            extra_info: {},
          },
          node_errors: {},
        });
      }
    }
    if (!Object.values(prompt).some((n) => OUTPUT_NODES.has(n.class_type))) {
      return json(res, 400, {
        error: { type: "prompt_no_outputs", message: "Prompt has no outputs", details: "", extra_info: {} },
        node_errors: {},
      });
    }
    const nodeErrors: Record<string, unknown> = this.#loadImageErrors(prompt);
    for (const [id, node] of Object.entries(prompt)) {
      if (node.class_type !== "KSampler") continue;
      const steps = node.inputs.steps;
      if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1) {
        nodeErrors[id] = {
          errors: [
            {
              type: typeof steps === "number" ? "value_smaller_than_min" : "invalid_input_type",
              message:
                typeof steps === "number"
                  ? `Value ${steps} smaller than min of 1`
                  : "Failed to convert an input value to a INT value",
              details: `steps, ${JSON.stringify(steps)}`,
              extra_info: { input_name: "steps" },
            },
          ],
          dependent_outputs: outputsOf(prompt),
          class_type: "KSampler",
        };
      }
    }
    if (Object.keys(nodeErrors).length) {
      return json(res, 400, {
        error: {
          type: "prompt_outputs_failed_validation",
          message: "Prompt outputs failed validation",
          details: "",
          extra_info: {},
        },
        node_errors: nodeErrors,
      });
    }
    const promptId =
      this.options.honorPromptId && body.prompt_id !== undefined ? String(body.prompt_id) : randomUUID();
    const clientId = typeof body.client_id === "string" ? body.client_id : undefined;
    const q: QueuedPrompt = {
      number: this.#number++,
      promptId,
      prompt,
      clientId,
      // ComfyUI keeps extra_data with the client id in it; /queue rows and history show it.
      extraData: {
        ...((body.extra_data as Record<string, unknown>) ?? {}),
        ...(clientId ? { client_id: clientId } : {}),
      },
      createdAt: Date.now(),
    };
    this.submissions.push(q);
    this.#queue.push(q);
    if (this.options.hold) this.#held.add(promptId);
    const answer = { prompt_id: promptId, number: q.number, node_errors: {} };
    if (!defer) json(res, 200, answer);
    this.#broadcastStatus();
    void this.#pump();
    return defer ? answer : undefined;
  }

  /**
   * ComfyUI's image_upload: a multipart form with the file in "image", optional type (input|temp|output, default
   * input), subfolder and overwrite. Without overwrite=true/1 an existing name gets " (1)", " (2)" … unless its
   * bytes are the same file. A subfolder leaving the folder, or a form without a file, is a bare 400.
   */
  async #upload(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (this.failNextUpload) {
      this.failNextUpload = false;
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end("500 Internal Server Error\n\nServer got itself in trouble");
      return;
    }
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), {
        headers: { "content-type": req.headers["content-type"] ?? "" },
      }).formData();
    } catch {
      res.writeHead(400).end();
      return;
    }
    const image = form.get("image");
    const type = String(form.get("type") ?? "input") || "input";
    const subfolder = String(form.get("subfolder") ?? "");
    const overwrite = form.get("overwrite") === null ? undefined : String(form.get("overwrite"));
    if (!(image instanceof File) || !image.name || !["input", "temp", "output"].includes(type)) {
      res.writeHead(400).end();
      return;
    }
    if (subfolder.split("/").includes("..") || subfolder.startsWith("/")) {
      res.writeHead(400).end();
      return;
    }
    const bytes = Buffer.from(await image.arrayBuffer());
    const dot = image.name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [image.name.slice(0, dot), image.name.slice(dot)] : [image.name, ""];
    let name = image.name;
    const key = (n: string) => `${type}/${subfolder ? `${subfolder}/` : ""}${n}`;
    let duplicate = false;
    if (overwrite !== "true" && overwrite !== "1") {
      for (let i = 1; this.#files.has(key(name)); i++) {
        if (this.#files.get(key(name))!.equals(bytes)) {
          duplicate = true;
          break;
        }
        name = `${stem} (${i})${ext}`;
      }
    }
    if (!duplicate) this.#files.set(key(name), bytes);
    this.uploads.push({ name, subfolder, type, overwrite, bytes });
    return json(res, 200, { name, subfolder, type });
  }

  /** LoadImage's VALIDATE_INPUTS: the file must exist in the input folder ("sub/name" or "name [output]"). */
  #loadImageErrors(prompt: Workflow): Record<string, unknown> {
    const errors: Record<string, unknown> = {};
    for (const [id, node] of Object.entries(prompt)) {
      if (node.class_type !== "LoadImage") continue;
      const image = node.inputs.image;
      const annotated = typeof image === "string" ? /^(.*) \[(input|output|temp)\]$/.exec(image) : null;
      const file = annotated ? `${annotated[2]}/${annotated[1]}` : `input/${String(image)}`;
      if (typeof image === "string" && this.#files.has(file)) continue;
      errors[id] = {
        errors: [
          {
            type: "custom_validation_failed",
            message: "Custom validation failed for node",
            details: `LoadImage - Invalid image file: ${String(image)}`,
            extra_info: {},
          },
        ],
        dependent_outputs: outputsOf(prompt),
        class_type: "LoadImage",
      };
    }
    return errors;
  }

  #cancel(id: string) {
    const i = this.#queue.findIndex((q) => q.promptId === id);
    if (i !== -1) this.#queue.splice(i, 1);
    else if (this.#running?.promptId === id) this.#interruptRequested = true;
    this.#broadcastStatus();
  }

  #jobs() {
    const job = (q: QueuedPrompt, status: string) => ({
      id: q.promptId,
      status,
      priority: q.number,
      create_time: q.createdAt,
      outputs_count: 0,
    });
    const jobs = [
      ...(this.#running ? [job(this.#running, "in_progress")] : []),
      ...this.#queue.map((q) => job(q, "pending")),
      ...[...this.#history.entries()].map(([id, h]) => ({
        id,
        status: (h.status as { status_str: string }).status_str === "success" ? "completed" : "failed",
        create_time: 0,
      })),
    ];
    return { jobs, pagination: { offset: 0, limit: jobs.length, total: jobs.length, has_more: false } };
  }

  #systemStats() {
    if (this.options.cpuOnly)
      return {
        system: {
          os: "posix",
          ram_total: 8_000_000_000,
          ram_free: 5_000_000_000,
          comfyui_version: "unknown",
          python_version: "3.11.2",
          pytorch_version: "2.4.0+cpu",
          embedded_python: false,
          argv: ["main.py", "--cpu"],
        },
        devices: [
          {
            name: "cpu",
            type: "cpu",
            index: null,
            vram_total: 8_000_000_000,
            vram_free: 5_000_000_000,
            torch_vram_total: 8_000_000_000,
            torch_vram_free: 5_000_000_000,
          },
        ],
      };
    return {
      system: {
        os: "posix",
        ram_total: 34_359_738_368,
        ram_free: 20_000_000_000,
        comfyui_version: "0.3.66",
        python_version: "3.12.3",
        pytorch_version: "2.8.0+cu128",
        embedded_python: false,
        argv: ["main.py"],
      },
      devices: [
        {
          name: "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
          type: "cuda",
          index: 0,
          vram_total: 25_757_220_864,
          vram_free: 20_000_000_000,
          torch_vram_total: 0,
          torch_vram_free: 0,
        },
      ],
    };
  }

  // ---- WebSocket and execution ----

  #onSocket(ws: WebSocket, requested: string | null) {
    const clientId = requested || randomUUID().replace(/-/g, "");
    let set = this.#clients.get(clientId);
    if (!set) {
      set = new Set();
      this.#clients.set(clientId, set);
    }
    set.add(ws);
    ws.on("close", () => {
      set.delete(ws);
      if (set.size === 0) this.#clients.delete(clientId);
    });
    ws.send(JSON.stringify({ type: "status", data: { status: this.#status(), sid: clientId } }));
  }

  #status() {
    return { exec_info: { queue_remaining: this.queueRemaining } };
  }

  #broadcastStatus() {
    const msg = JSON.stringify({ type: "status", data: { status: this.#status() } });
    for (const set of this.#clients.values()) for (const ws of set) ws.send(msg);
  }

  /** ComfyUI sends execution events to the socket whose clientId submitted the prompt (if it is connected). */
  #emit(q: QueuedPrompt, type: string, data: Record<string, unknown>) {
    const set = q.clientId ? this.#clients.get(q.clientId) : undefined;
    for (const ws of set ?? []) ws.send(JSON.stringify({ type, data }));
  }

  async #pump() {
    if (this.#running) return;
    const next = this.#queue.find((q) => !this.#held.has(q.promptId));
    if (!next) return;
    this.#queue.splice(this.#queue.indexOf(next), 1);
    this.#running = next;
    this.#interruptRequested = false;
    try {
      await this.#execute(next);
    } finally {
      this.#running = undefined;
      this.#broadcastStatus();
      setImmediate(() => void this.#pump());
    }
  }

  async #execute(q: QueuedPrompt) {
    const id = q.promptId;
    const messages: [string, Record<string, unknown>][] = [];
    const emit = (type: string, data: Record<string, unknown>) => {
      const full = { ...data, prompt_id: id };
      if (type.startsWith("execution_")) messages.push([type, { ...full, timestamp: Date.now() }]);
      this.#emit(q, type, full);
    };
    this.#broadcastStatus();
    emit("execution_start", { timestamp: Date.now() });
    emit("execution_cached", { nodes: [], timestamp: Date.now() });
    const outputs: Record<string, unknown> = {};
    const executed: string[] = [];
    const fail = this.failNext;
    this.failNext = undefined;
    for (const [nodeId, node] of orderNodes(q.prompt)) {
      emit("executing", { node: nodeId, display_node: nodeId });
      if (fail && (fail.nodeId ?? firstOf(q.prompt, "KSampler")) === nodeId) {
        emit("execution_error", {
          node_id: nodeId,
          node_type: node.class_type,
          executed,
          exception_message: fail.message,
          exception_type: "RuntimeError",
          traceback: ["Traceback (most recent call last):\n", `RuntimeError: ${fail.message}\n`],
          current_inputs: {},
          current_outputs: {},
        });
        this.#finish(q, outputs, messages, "error");
        return;
      }
      if (node.class_type === "KSampler") {
        const steps = this.options.steps;
        for (let i = 1; i <= steps; i++) {
          await sleep(this.options.stepMs);
          if (this.#interruptRequested) {
            emit("execution_interrupted", { node_id: nodeId, node_type: node.class_type, executed });
            this.#finish(q, outputs, messages, "error");
            return;
          }
          emit("progress", { value: i, max: steps, node: nodeId });
        }
      }
      if (OUTPUT_NODES.has(node.class_type)) {
        const type = node.class_type === "SaveImage" ? "output" : "temp";
        const images = [];
        for (let i = 0; i < this.options.imagesPerJob; i++) {
          const filename = `ComfyUI_${String(++this.#fileSeq).padStart(5, "0")}_.png`;
          this.#files.set(`${type}/${filename}`, await this.#image(q.prompt));
          images.push({ filename, subfolder: "", type });
        }
        outputs[nodeId] = { images };
        emit("executed", { node: nodeId, display_node: nodeId, output: { images } });
      }
      executed.push(nodeId);
    }
    emit("execution_success", { timestamp: Date.now() });
    this.#finish(q, outputs, messages, "success");
    this.#emit(q, "executing", { node: null, prompt_id: id });
  }

  #finish(
    q: QueuedPrompt,
    outputs: Record<string, unknown>,
    messages: unknown[],
    status: "success" | "error",
  ) {
    this.#history.set(q.promptId, {
      prompt: [q.number, q.promptId, q.prompt, q.extraData, outputsOf(q.prompt)],
      outputs,
      status: { status_str: status, completed: status === "success", messages },
      meta: {},
    });
  }

  /** The picture a job saves: the loaded photo re-encoded as PNG when there is one, else a fixed 64×64 PNG. */
  async #image(prompt: Workflow): Promise<Buffer> {
    const load = Object.values(prompt).find((n) => n.class_type === "LoadImage");
    const file = load ? this.#files.get(`input/${String(load.inputs.image)}`) : undefined;
    if (file) return sharp(file).png().toBuffer();
    this.#png ??= await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } },
    })
      .png()
      .toBuffer();
    return this.#png;
  }
}

function orderNodes(prompt: Workflow): [string, Node][] {
  // Loaders first, outputs last: close enough to ComfyUI's topological order for the events tests look at.
  const rank = (n: Node) =>
    OUTPUT_NODES.has(n.class_type)
      ? 3
      : n.class_type === "VAEDecode"
        ? 2
        : n.class_type === "KSampler"
          ? 1
          : 0;
  return Object.entries(prompt).sort((a, b) => rank(a[1]) - rank(b[1]));
}

function firstOf(prompt: Workflow, classType: string): string | undefined {
  return Object.entries(prompt).find(([, n]) => n.class_type === classType)?.[0];
}

function outputsOf(prompt: Workflow): string[] {
  return Object.entries(prompt)
    .filter(([, n]) => OUTPUT_NODES.has(n.class_type))
    .map(([id]) => id);
}

function json(res: ServerResponse, status: number, body: unknown): undefined {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
  return undefined;
}

/** aiohttp's answer for a route nobody registered. */
function notFound(res: ServerResponse): undefined {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("404: Not Found");
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString("utf8");
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
