// The agent: each distinct agent URL and model the channels route to gets a tiny chat completion (max_tokens 1),
// plain and streamed, and one with a 1×1 picture to learn whether the model takes images. The answers' own
// error messages (src/targets/openai/errors.ts) say what to fix, as they do for chat users.
import { failed, ok, warn } from "../channels/sdk/doctor.ts";
import type { DoctorCheck } from "../channels/types.ts";
import { agentUrlFor, modelFor } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { redactUrl } from "../security/url-guard.ts";
import { connectionError, httpError } from "../targets/openai/errors.ts";
import { refusesContent } from "../targets/openai/parts.ts";
import { sseData } from "../targets/openai/sse.ts";

/** A function the model is told about but asked not to call (tool_choice "none"). */
const NOOP_TOOL = {
  type: "function",
  function: { name: "noop", description: "does nothing", parameters: { type: "object", properties: {} } },
};

/** A 1×1 transparent PNG. */
const PIXEL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

export interface AgentTarget {
  url: string;
  model?: string;
  /** Which channel accounts route here, for the report. */
  users: string[];
}

/** Every agent URL and model some enabled channel account routes to. */
export function agentTargets(
  config: Config,
  accounts: { channel: string; account: string }[],
): AgentTarget[] {
  const out = new Map<string, AgentTarget>();
  for (const { channel, account } of accounts) {
    const url = agentUrlFor(config, channel, account);
    const model = modelFor(config, channel);
    const key = `${url}|${model ?? ""}`;
    const t = out.get(key) ?? { url, model, users: [] };
    t.users.push(`${channel}:${account}`);
    out.set(key, t);
  }
  return [...out.values()];
}

/** A TargetError message ("… unreachable (…). Start your model server … Your message was kept.") as detail + fix. */
function split(message: string): { detail: string; fix: string } {
  const m = message.replace(/ Your message was kept\.$/, "");
  const at = m.search(/\.\s+(?=(Start|Check|Try) )/);
  return at === -1
    ? { detail: m, fix: "check the agent server's logs" }
    : { detail: m.slice(0, at), fix: m.slice(at + 2) };
}

export async function agentChecks(t: AgentTarget, config: Config, n: number): Promise<DoctorCheck[]> {
  const id = n === 0 ? "agent" : `agent.${n + 1}`;
  const shown = redactUrl(t.url);
  const title = `Agent ${shown}`;
  const timeoutMs = Math.min(config.agent.firstTokenTimeoutMs, 60_000);
  const post = (body: Record<string, unknown>) =>
    fetch(t.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: body.stream ? "text/event-stream, application/json" : "application/json",
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: t.model, max_tokens: 1, ...body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  const ping = [{ role: "user", content: "ping" }];

  let res: Response;
  try {
    res = await post({ messages: ping, stream: false });
  } catch (err) {
    const { detail, fix } = split(connectionError(t.url, err).message);
    return [failed(id, title, detail, fix)];
  }
  const text = await res.text();
  if (!res.ok) {
    const { detail, fix } = split(httpError(t.url, res.status, text, t.model).message);
    return [failed(id, title, detail, fix)];
  }
  let answer: { model?: string; choices?: unknown[] } | undefined;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (!Array.isArray(answer?.choices)) {
    return [
      failed(
        id,
        title,
        `${shown} answered, but not with a chat completion (${text.slice(0, 80)})`,
        "point agentUrl at the OpenAI-compatible endpoint, ending in /v1/chat/completions",
      ),
    ];
  }
  const model = answer.model ?? t.model ?? "(the server's default)";
  const out = [ok(id, title, `model ${model} answered (used by ${t.users.join(", ")})`)];
  out.push(await streamCheck(`${id}.stream`, () => post({ messages: ping, stream: true }), config));
  const picture = [
    { type: "text", text: "ping" },
    { type: "image_url", image_url: { url: PIXEL } },
  ];
  out.push(
    await featureCheck(`${id}.vision`, "Agent pictures", () =>
      post({ messages: [{ role: "user", content: picture }], stream: false }),
    ).then((r) =>
      r.accepted === undefined
        ? r.check
        : {
            ...r.check,
            detail: r.accepted
              ? `${model} accepts pictures`
              : `${model} is text only (it refused a picture with HTTP ${r.status}); users' pictures are described, not shown`,
          },
    ),
  );
  out.push(
    await featureCheck(`${id}.tools`, "Agent tools", () =>
      post({ messages: ping, stream: false, tools: [NOOP_TOOL], tool_choice: "none" }),
    ).then((r) =>
      r.accepted === undefined
        ? r.check
        : {
            ...r.check,
            detail: r.accepted
              ? `${model} takes tool definitions`
              : `${model} does not take tool definitions (HTTP ${r.status}); clawgate does not need them`,
          },
    ),
  );
  return out;
}

async function streamCheck(id: string, send: () => Promise<Response>, config: Config): Promise<DoctorCheck> {
  const title = "Agent streaming";
  try {
    const res = await send();
    const type = res.headers.get("content-type") ?? "";
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return warn(
        id,
        title,
        `a streamed request failed (HTTP ${res.status})`,
        "check the agent server's logs",
      );
    }
    if (!type.includes("text/event-stream")) {
      await res.body.cancel();
      return config.agent.stream
        ? warn(
            id,
            title,
            `the agent answered a streamed request with one ${type || "untyped"} body: answers appear only when complete`,
            "enable streaming on the agent server, or set agent.stream to false in clawgate.json",
          )
        : ok(id, title, "not streamed (agent.stream is false)");
    }
    let events = 0;
    for await (const _ of sseData(res.body)) events++;
    return events > 0
      ? ok(id, title, `server-sent events arrived (${events})`)
      : warn(id, title, "the stream ended without one event", "check the agent server's logs");
  } catch (err) {
    return warn(
      id,
      title,
      `a streamed request failed: ${(err as Error).message}`,
      "check the agent server's logs",
    );
  }
}

/**
 * Whether the model takes a request shape (pictures, tools): never a failure, a model without it still answers.
 * `accepted` is undefined when the answer could not tell (the check is then a skip).
 */
async function featureCheck(
  id: string,
  title: string,
  send: () => Promise<Response>,
): Promise<{ check: DoctorCheck; accepted?: boolean; status?: number }> {
  try {
    const res = await send();
    await res.body?.cancel();
    if (res.ok) return { check: ok(id, title, ""), accepted: true, status: res.status };
    if (refusesContent(res.status)) return { check: ok(id, title, ""), accepted: false, status: res.status };
    return { check: { id, title, status: "skip", detail: `could not tell (HTTP ${res.status})` } };
  } catch (err) {
    return { check: { id, title, status: "skip", detail: `could not tell (${(err as Error).message})` } };
  }
}
