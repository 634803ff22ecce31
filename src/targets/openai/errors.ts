// Turns transport and HTTP failures from an OpenAI-compatible server into messages that say what to fix.
// These messages reach chat users and history, so the agent URL appears without its password or query.
import { redactUrl } from "../../security/url-guard.ts";
import { TargetError } from "../types.ts";

export function connectionError(rawUrl: string, err: unknown): TargetError {
  const url = redactUrl(rawUrl);
  const code = (err as { cause?: { code?: string } })?.cause?.code ?? (err as { code?: string })?.code;
  const reason =
    code === "ECONNREFUSED"
      ? "connection refused"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "host not found"
        : code === "ECONNRESET"
          ? "connection reset"
          : code
            ? code
            : // fetch wraps the real reason ("bad port", a TLS error …) in its cause.
              ((err as { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? "unknown error");
  // fetch quotes the whole URL in some reasons (e.g. "… includes credentials: http://user:pass@…").
  const shownReason = reason.split(rawUrl).join(url);
  return new TargetError(
    `The agent at ${url} is unreachable (${shownReason}). Start your model server (for Ollama: \`ollama serve\`) or set agentUrl in clawgate.json / OCG_AGENT_URL. Your message was kept.`,
    { retryable: true, cause: err },
  );
}

export function httpError(
  rawUrl: string,
  status: number,
  body: string,
  model: string | undefined,
): TargetError {
  const url = redactUrl(rawUrl);
  const detail = extractMessage(body);
  const said = detail ? `: ${detail}` : "";
  if (status === 401 || status === 403) {
    return new TargetError(
      `The agent at ${url} refused the request (HTTP ${status})${said}. Check apiKey in clawgate.json or OCG_API_KEY.`,
      { status },
    );
  }
  if (status === 404) {
    return new TargetError(
      `The agent at ${url} answered 404${said}. Check that the URL ends in /v1/chat/completions and that the model "${model ?? "(none set)"}" exists (for Ollama: \`ollama pull ${model ?? "<model>"}\`).`,
      { status },
    );
  }
  if (status === 429) {
    return new TargetError(
      `The agent at ${url} is rate limiting requests (HTTP 429)${said}. Try again shortly.`,
      {
        status,
        retryable: true,
      },
    );
  }
  if (status >= 500) {
    return new TargetError(
      `The agent at ${url} failed (HTTP ${status})${said}. Check the agent server's logs.`,
      {
        status,
        retryable: true,
      },
    );
  }
  return new TargetError(`The agent at ${url} rejected the request (HTTP ${status})${said}.`, { status });
}

function extractMessage(body: string): string {
  try {
    const j = JSON.parse(body);
    const m = typeof j?.error === "string" ? j.error : (j?.error?.message ?? j?.message ?? j?.detail);
    if (typeof m === "string") return m.slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 200);
}
