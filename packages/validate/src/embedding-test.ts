import { cosine, embedTexts, IllegalInstructionError, ToolError } from "@gguf-pipeline/core";

export interface EmbeddingTestParams {
  file: string;
  /** llama.cpp's llama-embedding. */
  embeddingTool: string;
  /** The sentences to embed (at least two, different). */
  sentences: string[];
  /** The width every vector must have (the model's embedding length). */
  width?: number;
  ctx: number;
  /** The reference model's vectors for the same sentences: the quant's must stay close to them. */
  reference?: number[][];
  signal?: AbortSignal;
}

export interface EmbeddingTestOutput {
  checks: { name: string; ok: boolean; fact: string }[];
  /** The vectors, kept so a quant can be compared with its reference. */
  vectors: number[][];
}

// Below this cosine a quant's embeddings are no longer the same model's (a broken file, not a coarse quant).
const minCosineToReference = 0.9;

/**
 * The smoke test of an embedding model: llama-embedding loads it and returns one finite, non-zero vector of the model's
 * width per sentence, different sentences give different vectors, and (for a quant) the vectors stay close to the
 * reference's (cosine, reported).
 */
export async function embeddingTest(params: EmbeddingTestParams): Promise<EmbeddingTestOutput> {
  let vectors: number[][];
  try {
    ({ vectors } = await embedTexts({ file: params.file, embeddingTool: params.embeddingTool, texts: params.sentences, ctx: params.ctx, ...(params.signal ? { signal: params.signal } : {}) }));
  } catch (error) {
    if (!(error instanceof ToolError) || error instanceof IllegalInstructionError) throw error;
    const cause = error.stderrTail.split("\n").find((l) => /error|failed/i.test(l)) ?? error.message;
    return { checks: [{ name: "smoke test", ok: false, fact: `llama-embedding failed: ${cause.replace(/^[\d.]+ [A-Z] /, "").trim().slice(0, 200)}` }], vectors: [] };
  }
  const checks: EmbeddingTestOutput["checks"] = [];
  const widths = [...new Set(vectors.map((v) => v.length))];
  const finite = vectors.every((v) => v.every(Number.isFinite) && v.some((x) => x !== 0));
  let maxSimilarity = -1;
  for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) maxSimilarity = Math.max(maxSimilarity, cosine(vectors[i] ?? [], vectors[j] ?? []));
  const widthOk = widths.length === 1 && (params.width === undefined || widths[0] === params.width);
  const distinct = maxSimilarity < 0.9999;
  const ok = vectors.length === params.sentences.length && widthOk && finite && distinct;
  const fact =
    vectors.length !== params.sentences.length
      ? `${vectors.length} vectors for ${params.sentences.length} sentences`
      : !widthOk
        ? `vector width ${widths.join("/")}, the model's is ${params.width ?? "?"}`
        : !finite
          ? "the vectors hold NaN, infinity or only zeros: the weights look broken"
          : !distinct
            ? `different sentences give the same vector (cosine ${maxSimilarity.toFixed(6)}): the weights look broken`
            : `${vectors.length} finite vectors of width ${widths[0]}; different sentences differ (highest cosine between them ${maxSimilarity.toFixed(3)})`;
  checks.push({ name: "smoke test", ok, fact });
  if (ok && params.reference) {
    const similarities = vectors.map((v, i) => cosine(v, params.reference?.[i] ?? []));
    const min = Math.min(...similarities);
    const mean = similarities.reduce((a, b) => a + b, 0) / similarities.length;
    checks.push({ name: "embeddings vs reference", ok: min >= minCosineToReference, fact: `cosine to the reference's embeddings: mean ${mean.toFixed(4)}, min ${min.toFixed(4)}${min >= minCosineToReference ? "" : ` (below ${minCosineToReference})`}` });
  }
  return { checks, vectors };
}
