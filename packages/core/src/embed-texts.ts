import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { runToolToEnd } from "./run-tool.js";

export interface EmbedTextsParams {
  file: string;
  /** llama.cpp's llama-embedding. */
  embeddingTool: string;
  texts: string[];
  /** Context (and batch) size; every text must fit in it. */
  ctx: number;
  signal?: AbortSignal;
}

export interface EmbedTextsOutput {
  /** One vector per text, pooled as the model says and L2-normalised (llama-embedding's defaults). */
  vectors: number[][];
}

// Texts may hold newlines (llama-embedding's default separator): a separator no text has keeps them whole.
const separator = "<#gguf-pipeline-sep#>";

/**
 * Embeds texts with llama.cpp's llama-embedding (the model's own pooling, euclidean normalisation), in one run: the
 * texts go in through a file, the vectors come back as its `array` output on stdout.
 */
export async function embedTexts(params: EmbedTextsParams): Promise<EmbedTextsOutput> {
  const input = join(tmpdir(), `gguf-pipeline-embed-${process.pid}-${randomUUID()}.txt`);
  await writeFile(input, params.texts.map((t) => t.replaceAll(separator, " ")).join(separator));
  try {
    const ctx = String(params.ctx);
    const out = await runToolToEnd({
      tool: "llama-embedding",
      command: params.embeddingTool,
      // --no-escape: the texts go in verbatim. -np: see parallelSequences.
      args: ["-m", params.file, "-f", input, "--embd-separator", separator, "--embd-output-format", "array", "--embd-normalize", "2", "-c", ctx, "-b", ctx, "-ub", ctx, "-np", String(parallelSequences(params.texts.length)), "--no-escape", "--no-warmup", "-t", String(availableParallelism())],
      file: params.file,
      ...(params.signal ? { signal: params.signal } : {}),
    });
    const start = out.stdout.indexOf("[[");
    const end = out.stdout.lastIndexOf("]]");
    const vectors = start >= 0 && end > start ? (JSON.parse(out.stdout.slice(start, end + 2)) as number[][]) : [];
    return { vectors };
  } finally {
    await rm(input, { force: true });
  }
}

/**
 * llama-embedding's -np for a number of texts. Left unset it makes room for 256 sequences, more outputs than a small
 * context allows (it aborts below -c 256), and the pinned build also aborts building its graph when the count is not a
 * power of two (seen with 31, 33, 40, 48): the next power of two, from 2 to 128 (more texts go in several batches).
 */
export function parallelSequences(texts: number): number {
  return Math.min(128, Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(texts, 1)))));
}

/** Cosine similarity of two vectors. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
