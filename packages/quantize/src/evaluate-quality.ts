import { existsSync } from "node:fs";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { arrayLength, ensureFreeSpace, hashFile, parseKld, PipelineError, readGguf, recordArtifact, runToolToEnd, stableKey, stateDirName, type Artifact, type PerplexityQuality, type Quality, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { countTokens } from "./count-tokens.js";
import { QualityParseError, TextTooShortError } from "./errors.js";
import { memoJson } from "./memo-json.js";

export interface EvaluateQualityParams {
  /** The high-precision intermediate: the reference distribution. */
  reference: Artifact;
  /** The quants to measure (for a split quant, its first shard). */
  quants: Artifact[];
  outDir: string;
  text: string;
  ctx: number;
  chunks?: number;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

export interface EvaluateQualityOutput {
  /** Path → quality, the reference included. */
  quality: Record<string, Quality>;
}

const stage = "evaluate";
// llama-perplexity prints its statistics through llama.cpp's async logger. The pinned build drains it at exit
// (native/patches), but a user's own llama.cpp may drop the last lines when the process exits quickly; the run is
// deterministic, so a run whose statistics did not arrive is repeated.
const attempts = 4;

/**
 * Runs llama-perplexity on the reference once (saving its token distributions as the KL-divergence base) and then on
 * every quant against that base: perplexity, mean and p99 KL divergence, and top-token agreement. Each measurement
 * is cached by the files' content, the text and the options.
 */
export async function* evaluateQuality(params: EvaluateQualityParams): AsyncGenerator<StageEvent, EvaluateQualityOutput> {
  const started = Date.now();
  const sig = params.signal ? { signal: params.signal } : {};
  const threads = String(availableParallelism());
  yield { type: "start", stage, title: `Measure quality on ${basename(params.text)} (ctx ${params.ctx})` };
  const text = await hashFile({ file: params.text, ...sig });
  const baseKey = stableKey({ stage, reference: params.reference.sha256, text: text.sha256, ctx: params.ctx, chunks: params.chunks, commit: params.toolchain.commit });
  const stateDir = join(params.outDir, stateDirName);
  await mkdir(stateDir, { recursive: true });
  const baseFile = join(stateDir, `kld-base-${baseKey.slice(0, 16)}.bin`);
  const textInfo = { text: basename(params.text), ctx: params.ctx };
  let cached = true;

  // The reference's numbers are only reusable with its saved distributions beside them.
  const base = await memoJson<PerplexityQuality>(join(stateDir, `quality-${baseKey.slice(0, 16)}.json`), params.force || !existsSync(baseFile), async () => {
    cached = false;
    // llama-perplexity exits 0 on a text shorter than two contexts: count first, and say how much text is needed.
    const reference = join(params.outDir, params.reference.path);
    const tokens = await countTokens({ model: reference, text: params.text, toolchain: params.toolchain, ...sig });
    if (tokens < 2 * params.ctx) throw new TextTooShortError({ file: params.text, tool: "llama-perplexity", tokens, ctx: params.ctx, setting: "evaluate" });
    // The distributions of an older reference or text are large and of no more use; they go once the new text is known
    // to be usable (a run refused for a text too short keeps them), before the space for the new ones is counted.
    for (const old of await readdir(stateDir)) if (/^kld-base-[0-9a-f]+\.bin$/.test(old) && join(stateDir, old) !== baseFile) await rm(join(stateDir, old), { force: true });
    // The base holds every evaluated token's distribution over the whole vocabulary: often larger than the model.
    const vocab = arrayLength((await readGguf({ file: reference })).metadata["tokenizer.ggml.tokens"]);
    if (vocab) {
      const chunks = Math.min(Math.floor(tokens / params.ctx), params.chunks ?? Number.POSITIVE_INFINITY);
      await ensureFreeSpace({ dir: stateDir, bytes: kldBaseBytes({ ctx: params.ctx, vocab, chunks }), what: `the KL-divergence base of ${params.reference.path}` });
    }
    // Written under a temporary name (a killed run's is removed by the folder's next holder) and renamed once whole.
    const partialBase = `${baseFile}.${process.pid}.tmp`;
    const out = await perplexity(params, [
      "-m", reference,
      "-f", basename(params.text),
      "-c", String(params.ctx),
      ...(params.chunks ? ["--chunks", String(params.chunks)] : []),
      "--kl-divergence-base", partialBase,
      "-t", threads,
    ], (text) => {
      const ppl = Number(/Final estimate: PPL = ([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
      return Number.isFinite(ppl) ? { ppl } : "Final estimate";
    })
      .then(async (result) => {
        await checkKldBase(partialBase);
        await rename(partialBase, baseFile);
        return result;
      })
      .catch(async (error: unknown) => {
        // A half-written base is of no use to anyone.
        await rm(partialBase, { force: true });
        await rm(baseFile, { force: true });
        throw error;
      });
    return { kind: "perplexity", ppl: out.ppl, kldMean: 0, kldP99: 0, top1: 100, ...textInfo };
  });
  const quality: Record<string, Quality> = { [params.reference.path]: base };
  await recordArtifact({ outDir: params.outDir, artifact: { ...params.reference, quality: base } });
  yield { type: "progress", stage, message: `${params.reference.path}: PPL ${base.ppl.toFixed(4)} (reference)` };

  for (const quant of params.quants) {
    // The quant's own cache key covers all of it (every shard's inputs and options), the hash its first file's bytes.
    const key = stableKey({ baseKey, quant: quant.sha256, made: quant.cacheKey });
    const measured = await memoJson<PerplexityQuality>(join(stateDir, `quality-${key.slice(0, 16)}.json`), params.force, async () => {
      cached = false;
      const out = await perplexity(params, ["-m", join(params.outDir, quant.path), "-c", String(params.ctx), "--kl-divergence-base", baseFile, "--kl-divergence", "-t", threads], (text) => {
        const stats = parseKld(text);
        const missing = Object.entries(stats).find(([, v]) => !Number.isFinite(v));
        return missing ? missing[0] : stats;
      });
      return { kind: "perplexity", ...out, ...textInfo };
    });
    quality[quant.path] = measured;
    await recordArtifact({ outDir: params.outDir, artifact: { ...quant, quality: measured } });
    yield { type: "progress", stage, message: `${quant.path}: PPL ${measured.ppl.toFixed(4)}, KLD ${measured.kldMean.toFixed(6)}, top-1 ${measured.top1.toFixed(1)}%` };
  }
  const seconds = (Date.now() - started) / 1000;
  yield { type: "done", stage, title: `Quality of ${params.quants.length} quant(s) measured${cached ? " — cached" : ""}`, seconds, cached };
  return { quality };

  /** Runs llama-perplexity until `read` finds its numbers (it returns the name of what is missing otherwise). */
  async function perplexity<T>(p: EvaluateQualityParams, args: string[], read: (text: string) => T | string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const out = await runToolToEnd({ tool: "llama-perplexity", command: p.toolchain.tools.perplexity, args, cwd: dirname(p.text), file: args[1] ?? "", ...sig });
      const result = read(out.lines.join("\n"));
      if (typeof result !== "string") return result;
      if (attempt >= attempts) throw new QualityParseError({ file: args[1] ?? "", missing: `${result} (${attempts} runs)` });
    }
  }
}

/**
 * Bytes of llama-perplexity's KL-divergence base (tools/perplexity): "_logits_", n_ctx, n_vocab and n_chunk, every
 * chunk's tokens (int32), then for the second half of each chunk's context but its last token, the log-probabilities
 * over the vocabulary (uint16, padded to an even count plus 4).
 */
export function kldBaseBytes(params: { ctx: number; vocab: number; chunks: number }): number {
  const { ctx, vocab, chunks } = params;
  const perToken = (2 * Math.floor((vocab + 1) / 2) + 4) * 2;
  return 20 + chunks * ctx * 4 + chunks * (ctx - 1 - Math.floor(ctx / 2)) * perToken;
}

/**
 * llama-perplexity writes its base through an unchecked std::ofstream: on a full disk it exits 0 with a short file,
 * whose every later KL divergence would be wrong. The file says how long it must be.
 */
export async function checkKldBase(file: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(20);
    const { bytesRead } = await handle.read(head, 0, 20, 0);
    const ok = bytesRead === 20 && head.toString("latin1", 0, 8) === "_logits_";
    const expected = ok ? kldBaseBytes({ ctx: head.readInt32LE(8), vocab: head.readInt32LE(12), chunks: head.readInt32LE(16) }) : undefined;
    if (expected === size) return;
    throw new PipelineError({
      message: `llama-perplexity wrote ${size} bytes of the KL-divergence base${expected ? `, not the ${expected} it describes` : ", without its header"}: the disk is probably full`,
      exitCode: 1,
      file: dirname(file),
      hint: "free some space, or point --out at a disk with room",
    });
  } finally {
    await handle.close();
  }
}
