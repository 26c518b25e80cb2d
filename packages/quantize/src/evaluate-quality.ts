import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { hashFile, recordArtifact, runToolToEnd, stableKey, stateDirName, type Artifact, type PerplexityQuality, type Quality, type StageEvent } from "@gguf-pipeline/core";
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
    // The distributions of an older reference or text are large and of no more use.
    for (const old of await readdir(stateDir)) if (old.startsWith("kld-base-") && join(stateDir, old) !== baseFile) await rm(join(stateDir, old), { force: true });
    // llama-perplexity exits 0 on a text shorter than two contexts: count first, and say how much text is needed.
    const tokens = await countTokens({ model: join(params.outDir, params.reference.path), text: params.text, toolchain: params.toolchain, ...sig });
    if (tokens < 2 * params.ctx) throw new TextTooShortError({ file: params.text, tool: "llama-perplexity", tokens, ctx: params.ctx, setting: "evaluate" });
    const out = await perplexity(params, [
      "-m", join(params.outDir, params.reference.path),
      "-f", basename(params.text),
      "-c", String(params.ctx),
      ...(params.chunks ? ["--chunks", String(params.chunks)] : []),
      "--kl-divergence-base", baseFile,
      "-t", threads,
    ], (text) => {
      const ppl = Number(/Final estimate: PPL = ([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
      return Number.isFinite(ppl) ? { ppl } : "Final estimate";
    }).catch(async (error: unknown) => {
      // A half-written base is of no use to anyone.
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

/** The statistics block llama-perplexity prints with --kl-divergence. */
export function parseKld(out: string): Pick<PerplexityQuality, "ppl" | "kldMean" | "kldP99" | "top1"> {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    ppl: num(/Mean PPL\(Q\)\s*:\s*([\d.]+)/),
    kldMean: num(/Mean\s+KLD:\s*(-?[\d.]+)/),
    kldP99: num(/99\.0%\s+KLD:\s*(-?[\d.]+)/),
    top1: num(/Same top p:\s*([\d.]+)/),
  };
}
