import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { arrayLength, ensureFreeSpace, hashFile, parseKld, readGguf, recordArtifact, stableKey, stateDirName, type Artifact, type PerplexityQuality, type Quality, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { chunksForPrecision } from "./chunks-for-precision.js";
import { evaluationBatches, type EvaluationBatch } from "./evaluation-batches.js";
import { TextTooShortError } from "./errors.js";
import { runPerplexity } from "./run-perplexity.js";
import { joinKldBases } from "./join-kld-bases.js";
import { checkKldBase, kldBaseBytes } from "./kld-base.js";
import { memoJson } from "./memo-json.js";
import { paragraphTokens } from "./paragraph-tokens.js";
import { poolBatches } from "./pool-batches.js";

export interface EvaluateQualityParams {
  /** The high-precision intermediate: the reference distribution. */
  reference: Artifact;
  /** The quants to measure (for a split quant, its first shard). */
  quants: Artifact[];
  outDir: string;
  text: string;
  ctx: number;
  /** At most this many chunks of the text (default: all of it). */
  chunks?: number;
  /**
   * Stop adding chunks once every quant's standard error of the mean KL divergence is under this share of its mean
   * (default 0.05: ±5 %); 0 measures every chunk the text (and `chunks`) allow.
   */
  precision?: number;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

export interface EvaluateQualityOutput {
  /** Path → quality, the reference included. */
  quality: Record<string, Quality>;
}

const stage = "evaluate";
/** The batches measured before the precision is first judged (an error from fewer batches' spread means little). */
export const PILOT_BATCHES = 4;

/**
 * Runs llama-perplexity on the reference (saving its token distributions as the KL-divergence base) and then on every
 * quant against that base: perplexity, mean KL divergence with its standard error, p99 and top-token agreement.
 * In bounded time: the text is measured in batches that each sample all of it (evaluationBatches), until every
 * quant's standard error (from the batches' spread) is under `precision` of its mean, judged after PILOT_BATCHES
 * batches and after every batch from there, up to the whole text. Cached by the files' content, the text, the options
 * and the set of quants.
 */
export async function* evaluateQuality(params: EvaluateQualityParams): AsyncGenerator<StageEvent, EvaluateQualityOutput> {
  const started = Date.now();
  const sig = params.signal ? { signal: params.signal } : {};
  const precision = params.precision ?? 0.05;
  yield { type: "start", stage, title: `Measure quality on ${basename(params.text)} (ctx ${params.ctx}${precision > 0 ? `, to ±${+(precision * 100).toFixed(2)} %` : ""})` };
  const text = await hashFile({ file: params.text, ...sig });
  const quants = params.quants.map((q) => `${q.sha256}:${q.cacheKey}`).sort();
  const key = stableKey({ stage, reference: params.reference.sha256, text: text.sha256, ctx: params.ctx, chunks: params.chunks, precision, quants, commit: params.toolchain.commit }).slice(0, 16);
  const stateDir = join(params.outDir, stateDirName);
  await mkdir(stateDir, { recursive: true });
  let cached = true;
  const events: StageEvent[] = [];
  const quality = await memoJson<Record<string, PerplexityQuality>>(join(stateDir, `quality-${key}.json`), params.force, async () => {
    cached = false;
    return measure(params, { key, stateDir, precision, note: (message) => events.push({ type: "progress", stage, message }) });
  });
  yield* events;
  for (const artifact of [params.reference, ...params.quants]) {
    const q = quality[artifact.path];
    if (!q) continue;
    await recordArtifact({ outDir: params.outDir, artifact: { ...artifact, quality: q } });
    const se = q.kldSe !== undefined && artifact !== params.reference ? ` ± ${q.kldSe.toFixed(6)}` : "";
    yield { type: "progress", stage, message: artifact === params.reference ? `${artifact.path}: PPL ${q.ppl.toFixed(4)} (reference, ${q.chunks ?? "?"} chunks)` : `${artifact.path}: PPL ${q.ppl.toFixed(4)}, KLD ${q.kldMean.toFixed(6)}${se}, top-1 ${q.top1.toFixed(1)}%` };
  }
  const seconds = (Date.now() - started) / 1000;
  yield { type: "done", stage, title: `Quality of ${params.quants.length} quant(s) measured${cached ? " — cached" : ""}`, seconds, cached };
  return { quality };
}

interface MeasureContext {
  key: string;
  stateDir: string;
  precision: number;
  note: (message: string) => void;
}

/**
 * The whole text in one pass (precision 0, a text too short for two batches, or a `chunks` cap within the first),
 * else batches in turn, judged from the fourth on, until every quant's mean is precise enough or the text is used
 * up. The batches' bases are joined into one (what a hand-run `llama-perplexity --kl-divergence` checks the pooled
 * numbers against).
 */
async function measure(params: EvaluateQualityParams, c: MeasureContext): Promise<Record<string, PerplexityQuality>> {
  const sig = params.signal ? { signal: params.signal } : {};
  const reference = join(params.outDir, params.reference.path);
  // llama-perplexity exits 0 on a text shorter than two contexts: count first, and say how much text is needed.
  const counted = await paragraphTokens({ model: reference, text: params.text, toolchain: params.toolchain, ...sig });
  if (counted.total < 2 * params.ctx) throw new TextTooShortError({ file: params.text, tool: "llama-perplexity", tokens: counted.total, ctx: params.ctx, setting: "evaluate" });
  const all = Math.min(Math.floor(counted.total / params.ctx), params.chunks ?? Number.POSITIVE_INFINITY);
  // The distributions of an older measurement are large and of no more use.
  for (const old of await readdir(c.stateDir)) if (/^(kld-base-[0-9a-f]+(-\d+)?\.bin|text-[0-9a-f]+-\d+\.txt)$/.test(old) && !old.includes(c.key)) await rm(join(c.stateDir, old), { force: true });
  const vocab = arrayLength((await readGguf({ file: reference })).metadata["tokenizer.ggml.tokens"]) ?? 0;
  const final = join(c.stateDir, `kld-base-${c.key}.bin`);
  const separator = (await readFile(params.text, "utf8")).includes("\n\n") ? "\n\n" : "\n";
  const batches = evaluationBatches({ paragraphs: counted.paragraphs, separator, ctx: params.ctx });
  // A cap the first batch already reaches leaves no spread to measure an error from: one pass, as with precision 0.
  if (c.precision <= 0 || batches.length < 2 || (batches[0]?.chunks ?? 0) >= all) {
    const ppl = await makeBase(params, { text: params.text, chunks: all, out: final, vocab });
    const results = await measureQuants(params, final, all);
    return { [params.reference.path]: referenceQuality(params, ppl, all), ...results };
  }
  // A batch's text and base are of use only until the join: a failed or interrupted run leaves none behind.
  try {
    return await measureBatches(params, c, { batches, all, final, vocab });
  } finally {
    for (const f of await readdir(c.stateDir)) if (new RegExp(`^(kld-base-${c.key}-\\d+\\.bin|text-${c.key}-\\d+\\.txt)$`).test(f)) await rm(join(c.stateDir, f), { force: true });
  }
}

/** The batches in turn until every quant's mean is precise enough (or the text is used up); their bases joined. */
async function measureBatches(params: EvaluateQualityParams, c: MeasureContext, b: { batches: EvaluationBatch[]; all: number; final: string; vocab: number }): Promise<Record<string, PerplexityQuality>> {
  const sig = params.signal ? { signal: params.signal } : {};
  const { batches, all, final, vocab } = b;
  const done: Measured[] = [];
  let measured = 0;
  let wanted = all;
  for (const [i, batch] of batches.entries()) {
    if (measured >= all) break;
    const text = join(c.stateDir, `text-${c.key}-${i}.txt`);
    await writeFile(text, batch.text);
    const base = join(c.stateDir, `kld-base-${c.key}-${i}.bin`);
    const chunks = Math.max(2, Math.min(batch.chunks, all - measured));
    const ppl = await makeBase(params, { text, chunks, out: base, vocab });
    done.push({ base, text, chunks, ppl, quants: await measureQuants(params, base, chunks) });
    measured += chunks;
    if (done.length < PILOT_BATCHES) continue;
    const pooled = params.quants.map((q) => pool(done, q.path));
    wanted = Math.min(all, chunksForPrecision({ measured: pooled, chunks: measured, precision: c.precision }));
    c.note(`${measured} chunks in ${done.length} batches: KLD ${pooled.map((q) => `${q.kldMean.toFixed(6)} ± ${q.kldSe.toFixed(6)}`).join(", ")}${wanted > measured ? ` — about ${wanted} chunks for ±${+(c.precision * 100).toFixed(2)} %` : " — precise enough"}`);
    if (wanted <= measured) break;
  }
  if (wanted > measured) c.note(`the whole text is ${measured} chunks: the means are as precise as it allows (a longer evaluate.text measures closer)`);
  if (vocab) await ensureFreeSpace({ dir: c.stateDir, bytes: kldBaseBytes({ ctx: params.ctx, vocab, chunks: measured }), what: `the KL-divergence base of ${params.reference.path}` });
  await joinKldBases({ parts: done.map((d) => d.base), output: final, ...sig });
  const results: Record<string, PerplexityQuality> = {};
  for (const q of params.quants) results[q.path] = pool(done, q.path);
  // Every chunk scores as many tokens: the joint perplexity is the chunk-weighted geometric mean.
  const ppl = Math.exp(done.reduce((s, d) => s + d.chunks * Math.log(d.ppl), 0) / measured);
  return { [params.reference.path]: referenceQuality(params, ppl, measured), ...results };
}

interface Measured {
  base: string;
  text: string;
  chunks: number;
  ppl: number;
  quants: Record<string, PerplexityQuality>;
}

/**
 * One quant's numbers over every batch measured, each batch weighing its chunks: the means (KL divergence, top-1)
 * and the perplexity exactly as one run over them all; the error from the batches' spread; the 99th percentile as the
 * batches' mean p99 (one run over the joined base gives the exact one).
 */
function pool(done: Measured[], path: string): PerplexityQuality & { kldSe: number } {
  const rows = done.map((d) => ({ chunks: d.chunks, q: d.quants[path] }));
  const chunks = rows.reduce((n, r) => n + r.chunks, 0);
  const mean = (f: (q: PerplexityQuality) => number) => rows.reduce((s, r) => s + r.chunks * (r.q ? f(r.q) : 0), 0) / chunks;
  const kld = poolBatches({ batches: rows.map((r) => ({ chunks: r.chunks, kldMean: r.q?.kldMean ?? 0 })) });
  const first = rows[0]?.q;
  return { kind: "perplexity", ppl: Math.exp(mean((q) => Math.log(q.ppl))), kldMean: kld.kldMean, kldSe: kld.kldSe, kldP99: mean((q) => q.kldP99), top1: mean((q) => q.top1), chunks, text: first?.text ?? "", ctx: first?.ctx ?? 0 };
}

function referenceQuality(params: EvaluateQualityParams, ppl: number, chunks: number): PerplexityQuality {
  return { kind: "perplexity", ppl, kldMean: 0, kldP99: 0, top1: 100, kldSe: 0, chunks, text: basename(params.text), ctx: params.ctx };
}

/** The reference's distributions over `chunks` chunks of a text, written whole under `out`; its perplexity there. */
async function makeBase(params: EvaluateQualityParams, b: { text: string; chunks: number; out: string; vocab: number }): Promise<number> {
  // The base holds every evaluated token's distribution over the whole vocabulary: often larger than the model.
  if (b.vocab) await ensureFreeSpace({ dir: dirname(b.out), bytes: kldBaseBytes({ ctx: params.ctx, vocab: b.vocab, chunks: b.chunks }), what: `the KL-divergence base of ${params.reference.path}` });
  // Written under a temporary name (a killed run's is removed by the folder's next holder) and renamed once whole.
  const partial = `${b.out}.${process.pid}.tmp`;
  try {
    const out = await perplexity(params, ["-m", join(params.outDir, params.reference.path), "-f", basename(b.text), "-c", String(params.ctx), "--chunks", String(b.chunks), "--kl-divergence-base", partial, "-t", String(availableParallelism())], dirname(b.text), (text) => {
      const ppl = Number(/Final estimate: PPL = ([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
      return Number.isFinite(ppl) ? ppl : "Final estimate";
    });
    await checkKldBase(partial);
    await rename(partial, b.out);
    return out;
  } catch (error) {
    // A half-written base is of no use to anyone.
    await rm(partial, { force: true });
    await rm(b.out, { force: true });
    throw error;
  }
}

async function measureQuants(params: EvaluateQualityParams, base: string, chunks: number): Promise<Record<string, PerplexityQuality>> {
  const out: Record<string, PerplexityQuality> = {};
  for (const quant of params.quants) {
    const stats = await perplexity(params, ["-m", join(params.outDir, quant.path), "-c", String(params.ctx), "--kl-divergence-base", base, "--kl-divergence", "-t", String(availableParallelism())], dirname(params.text), (text) => {
      const parsed = parseKld(text);
      const missing = Object.entries(parsed).find(([, v]) => !Number.isFinite(v));
      return missing ? missing[0] : parsed;
    });
    // llama-perplexity's own ± counts every token as a sample of its own, which the tokens of one passage are not:
    // never taken (one pass claims none; batches have theirs from their spread).
    const { kldSe: _perToken, ...figures } = stats;
    out[quant.path] = { kind: "perplexity", ...figures, chunks, text: basename(params.text), ctx: params.ctx };
  }
  return out;
}

/** llama-perplexity with this evaluation's toolchain and signal. */
function perplexity<T>(p: EvaluateQualityParams, args: string[], cwd: string, read: (text: string) => T | string): Promise<T> {
  return runPerplexity({ toolchain: p.toolchain, args, cwd, read, ...(p.signal ? { signal: p.signal } : {}) });
}
