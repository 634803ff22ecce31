// Settings for what messages carry besides text (docs/media.md): how the agent gets pictures and voice, and the
// limits on what the worker downloads from a platform.
import { z } from "zod";

const mb = (max: number, dflt: number) => z.number().positive().max(max).default(dflt);

/** agent.* keys for attachments. */
export const agentMediaSettings = {
  /**
   * How an image reaches the agent: "data" inlines it as a base64 data URL (works with any server); "url" sends
   * a signed clawgate link under server.publicBaseUrl (smaller requests, the agent must reach the gateway).
   */
  imageTransport: z.enum(["data", "url"]).default("data"),
  /**
   * Hosts whose links in an answer are fetched and sent as media: bare image links (a line that is just
   * https://host/x.png) as pictures, links to documents (https://host/report.pdf) as files. Markdown images
   * `![alt](url)` and data URLs are always taken (through the URL guard); links to other hosts never are.
   * `answerImageHosts`, its earlier name, is still read (see withAnswerMediaAlias).
   */
  answerMediaHosts: z.array(z.string().min(1)).default([]),
  answerImageHosts: z.array(z.string().min(1)).optional(),
  /** Send audio as `input_audio` parts (models that take audio, e.g. gpt-4o-audio) instead of transcribing it. */
  audioInput: z.boolean().default(false),
  /** An OpenAI-compatible /v1/audio/transcriptions endpoint (Whisper, faster-whisper-server, LocalAI …). */
  transcription: z
    .object({
      url: z.string().url().optional(),
      model: z.string().default("whisper-1"),
      /** ISO-639-1 hint, e.g. "en"; unset lets the server detect it. */
      language: z.string().min(2).max(8).optional(),
      apiKey: z.string().optional(),
      timeoutMs: z.number().int().positive().default(120_000),
    })
    .prefault({}),
};

/** agent.answerImageHosts (the setting's earlier name) adds to agent.answerMediaHosts; only the new name is kept. */
export function withAnswerMediaAlias<
  T extends { answerMediaHosts: string[]; answerImageHosts?: string[] | undefined },
>(agent: T): Omit<T, "answerImageHosts"> {
  const { answerImageHosts, ...rest } = agent;
  if (!answerImageHosts?.length) return rest;
  return { ...rest, answerMediaHosts: [...new Set([...rest.answerMediaHosts, ...answerImageHosts])] };
}

/** media.inbound: what the worker accepts from a platform per kind, and how long it is kept for history. */
export const inboundMediaSchema = z
  .object({
    maxImageMb: mb(100, 20),
    maxAudioMb: mb(100, 25),
    maxVideoMb: mb(500, 50),
    maxFileMb: mb(500, 20),
    /** Text taken from one file (a .txt, .csv, source code, a PDF's text) for the agent; the rest is cut with a note. */
    maxTextChars: z.number().int().min(100).max(1_000_000).default(20_000),
    /** Attachments of one message passed on; more are named but not downloaded. */
    maxPerMessage: z.number().int().min(1).max(50).default(10),
    /** Days an inbound file is kept so later turns (and the history view) can still see it. */
    keepDays: z.number().positive().max(3650).default(7),
  })
  .prefault({});
