// Settings for web chat workspaces (files, standing context) and memory (docs/configuration.md).
import { z } from "zod";

export const workspacesSchema = z
  .object({
    /** Largest file one upload may carry; a bigger one is refused with 413 while it streams, nothing kept. */
    maxFileMb: z.number().positive().max(100).default(10),
    /** All the files of one workspace together. */
    quotaMb: z.number().positive().max(10_000).default(100),
    /** Tokens (about 4 characters each) of pinned files and memories added to a workspace's system prompt. */
    contextTokens: z.number().int().min(100).max(200_000).default(8000),
  })
  .prefault({});

export const memorySchema = z
  .object({
    /** Optional semantic recall: an OpenAI-compatible /v1/embeddings endpoint. */
    embeddings: z
      .object({
        url: z.url().optional(),
        model: z.string().default("text-embedding-3-small"),
        apiKey: z.string().optional(),
        /** Memories recalled per message by similarity (the newest are always included as well). */
        topK: z.number().int().min(1).max(50).default(5),
        timeoutMs: z.number().int().positive().default(10_000),
      })
      .prefault({}),
  })
  .prefault({});
