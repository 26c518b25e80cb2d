import { mkdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { cosine, embedTexts, hashFile, recordArtifact, stableKey, stateDirName, type Artifact, type EmbeddingQuality, type Quality, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import type { EvaluateQualityOutput } from "./evaluate-quality.js";
import { memoJson } from "./memo-json.js";

export interface EvaluateEmbeddingsParams {
  /** The high-precision intermediate: the reference embeddings. */
  reference: Artifact;
  quants: Artifact[];
  outDir: string;
  text: string;
  /** Tokens per passage at most (capped by the model's context length). */
  ctx: number;
  /** Passages to embed at most (default 64). */
  chunks?: number;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

const stage = "evaluate";
const defaultPassages = 64;

/**
 * The evaluation of an embedding model: the evaluation text's passages embedded with llama-embedding by the reference
 * and by every quant; each quant's quality is the mean and lowest cosine similarity of its vectors to the reference's.
 * The reference's vectors and each measurement are cached by the files' content, the text and the options.
 */
export async function* evaluateEmbeddings(params: EvaluateEmbeddingsParams): AsyncGenerator<StageEvent, EvaluateQualityOutput> {
  const started = Date.now();
  const sig = params.signal ? { signal: params.signal } : {};
  yield { type: "start", stage, title: `Measure embedding quality on ${basename(params.text)} (ctx ${params.ctx})` };
  const passages = splitPassages({ text: await readFile(params.text, "utf8"), maxChars: params.ctx, limit: params.chunks ?? defaultPassages });
  const text = await hashFile({ file: params.text, ...sig });
  const baseKey = stableKey({ stage, kind: "embedding", reference: params.reference.sha256, text: text.sha256, ctx: params.ctx, chunks: params.chunks, commit: params.toolchain.commit });
  const stateDir = join(params.outDir, stateDirName);
  await mkdir(stateDir, { recursive: true });
  const textInfo = { text: basename(params.text), ctx: params.ctx, passages: passages.length };
  let cached = true;
  const embed = async (file: string) => {
    cached = false;
    return (await embedTexts({ file: join(params.outDir, file), embeddingTool: params.toolchain.tools.embedding, texts: passages, ctx: params.ctx, ...sig })).vectors;
  };
  const referenceVectors = await memoJson(join(stateDir, `embed-base-${baseKey.slice(0, 16)}.json`), params.force, () => embed(params.reference.path));
  const base: EmbeddingQuality = { kind: "embedding", cosineMean: 1, cosineMin: 1, ...textInfo };
  const quality: Record<string, Quality> = { [params.reference.path]: base };
  await recordArtifact({ outDir: params.outDir, artifact: { ...params.reference, quality: base } });
  yield { type: "progress", stage, message: `${params.reference.path}: ${passages.length} passages embedded (reference)` };
  for (const quant of params.quants) {
    const key = stableKey({ baseKey, quant: quant.sha256, made: quant.cacheKey });
    const measured = await memoJson<EmbeddingQuality>(join(stateDir, `quality-${key.slice(0, 16)}.json`), params.force, async () => {
      const vectors = await embed(quant.path);
      const similarities = referenceVectors.map((r, i) => cosine(r, vectors[i] ?? []));
      return { kind: "embedding", cosineMean: similarities.reduce((a, b) => a + b, 0) / Math.max(similarities.length, 1), cosineMin: Math.min(...similarities), ...textInfo };
    });
    quality[quant.path] = measured;
    await recordArtifact({ outDir: params.outDir, artifact: { ...quant, quality: measured } });
    yield { type: "progress", stage, message: `${quant.path}: cosine to the reference mean ${measured.cosineMean.toFixed(5)}, min ${measured.cosineMin.toFixed(5)}` };
  }
  const seconds = (Date.now() - started) / 1000;
  yield { type: "done", stage, title: `Embedding quality of ${params.quants.length} quant(s) measured${cached ? " — cached" : ""}`, seconds, cached };
  return { quality };
}

/**
 * The evaluation text as passages: its lines (paragraphs), each cut at a word boundary to at most `maxChars` characters
 * (a token covers at least one character, so a passage never outgrows the context), at most `limit` of them.
 */
export function splitPassages(params: { text: string; maxChars: number; limit: number }): string[] {
  const out: string[] = [];
  const room = Math.max(16, params.maxChars - 8);
  // Fragments too short to mean anything (a stray word, a heading number) are not passages.
  const keep = (p: string) => {
    if (p.split(" ").length >= 3 || p.length >= 12) out.push(p);
  };
  for (const raw of params.text.split(/\n+/)) {
    let line = raw.trim().replace(/\s+/g, " ");
    while (line.length > 0 && out.length < params.limit) {
      if (line.length <= room) {
        keep(line);
        break;
      }
      const cut = line.lastIndexOf(" ", room);
      const end = cut > room / 2 ? cut : room;
      keep(line.slice(0, end).trim());
      line = line.slice(end).trim();
    }
    if (out.length >= params.limit) break;
  }
  return out;
}
