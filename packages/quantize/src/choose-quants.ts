import { copyFile, link, mkdir, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { estimateMemory, findCachedArtifacts, hashFile, modelKind, modelShape, parseBudget, PipelineError, readGguf, recordArtifact, stableKey, stateDirName, tempPathFor, type Artifact, type QuantChoiceRecord, type Recipe, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { evaluateQuality } from "./evaluate-quality.js";
import { nominalQuantBytes } from "./nominal-size.js";
import { quantJobs, type QuantChoiceSpec } from "./quant-jobs.js";
import { quantCacheKey, quantizeOne } from "./quantize-one.js";
import { recallChoice, rememberChoice } from "./remember-choice.js";

export interface ChooseQuantsParams {
  spec: QuantChoiceSpec;
  /** The recipe: its quantOptions and imatrix apply to the candidates too. */
  recipe: Recipe;
  /** The intermediate the quants are made from. */
  input: Artifact;
  imatrix?: Artifact;
  outDir: string;
  name: string;
  /** The recipe's split size: a chosen type is then made (split) by the ladder rather than brought over whole. */
  split?: string;
  /** For maxKld: the evaluation text, context and chunks (the recipe's evaluate settings). */
  evaluation: { text: string; ctx: number; chunks?: number; precision?: number };
  toolchain: Toolchain;
  /** Memory the model needs beside its own file at any type: a vision model's projector, loaded with it. */
  besideBytes?: number;
  force?: boolean;
  signal?: AbortSignal;
}

export interface ChooseQuantsOutput {
  chosen: string[];
  choices: QuantChoiceRecord[];
  /** The chosen files, brought into the output folder under the ladder's cache keys. */
  artifacts: Artifact[];
  cached: boolean;
}

export const defaultCandidates = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "Q2_K"];
/** The stated margin, unless the recipe says otherwise: 10% of the budget for everything else, 64 MiB for the process. */
export const defaultMargin = 0.1;
export const defaultReserve = "64MB";
const stage = "choose";

interface Made {
  artifact: Artifact;
  needBytes: number;
  cached: boolean;
}
type Make = (type: string) => AsyncGenerator<StageEvent, Made>;

/**
 * Quants chosen by memory budget: for each budget, the highest-quality candidate whose memory at ctx, with the margin,
 * fits; with maxKld also the smallest candidate whose measured mean KL divergence stays under it. Candidates are made
 * with the ladder's exact llama-quantize command in the output folder's bookkeeping (.pipeline/candidates), cached
 * like any quant; a chosen one is brought into the output folder under the ladder's cache key, so the ladder finds it
 * made. Memory is judged on the made file, never only on a guess.
 */
export async function* chooseQuants(params: ChooseQuantsParams): AsyncGenerator<StageEvent, ChooseQuantsOutput> {
  const started = Date.now();
  const { spec } = params;
  const ctx = spec.ctx ?? 4096;
  const candidates = (spec.candidates ?? defaultCandidates).map((c) => c.toUpperCase());
  const margin = spec.margin ?? defaultMargin;
  const reserve = parseBudget(spec.reserve ?? defaultReserve) ?? 0;
  yield { type: "start", stage, title: `Choose quants for ${spec.fit.join(", ")} at ctx ${ctx}${spec.maxKld ? ` and KLD ≤ ${spec.maxKld}` : ""}` };
  const jobs = quantJobs({ ...params.recipe, quants: candidates });
  const keyOf = (type: string) => {
    const job = jobs.find((j) => j.type === type);
    if (!job) throw new Error(`no job for candidate ${type}`);
    return { job, key: quantCacheKey({ job, input: params.input, ...(job.useImatrix && params.imatrix ? { imatrix: params.imatrix } : {}), ...(params.split ? { split: params.split } : {}), commit: params.toolchain.commit }) };
  };
  const key = stableKey({
    stage,
    version: 1,
    fit: spec.fit,
    ctx,
    margin,
    reserve,
    candidates,
    maxKld: spec.maxKld ?? null,
    ...(params.besideBytes ? { besideBytes: params.besideBytes } : {}),
    quants: candidates.map((type) => keyOf(type).key),
    evaluation: spec.maxKld === undefined ? null : { text: (await hashFile({ file: params.evaluation.text })).sha256, ctx: params.evaluation.ctx, chunks: params.evaluation.chunks ?? null, precision: params.evaluation.precision ?? null },
  });
  const recalled = params.force ? undefined : await recallChoice({ outDir: params.outDir, key });
  if (recalled) {
    const chosen = [...new Set(recalled.map((c) => c.type))];
    const artifacts = (await Promise.all(chosen.map((type) => findCachedArtifacts({ outDir: params.outDir, cacheKey: keyOf(type).key })))).flat();
    // With a split the ladder makes the chosen types; without, they are here already, as the choice left them.
    if (params.split || artifacts.every(Boolean)) {
      yield { type: "cache-hit", stage, key, message: `chosen before: ${describe(recalled)}` };
      yield { type: "done", stage, title: `Chose ${describe(recalled)} — cached`, seconds: (Date.now() - started) / 1000, cached: true };
      return { chosen, choices: recalled, artifacts: artifacts.filter((a): a is Artifact => Boolean(a)), cached: true };
    }
  }

  const work = join(params.outDir, stateDirName, "candidates");
  // The intermediate and imatrix under the same names as in the output folder: the same command, the same bytes.
  await linkInto({ from: params.outDir, to: work, path: params.input.path });
  if (params.imatrix) await linkInto({ from: params.outDir, to: work, path: params.imatrix.path });
  const reference = await readGguf({ file: join(params.outDir, params.input.path) });
  const embeddingModel = modelKind({ metadata: reference.metadata }).kind === "embedding";
  const made = new Map<string, Made>();
  const make: Make = async function* (type) {
    const known = made.get(type);
    if (known) return known;
    const { job } = keyOf(type);
    const out = yield* quantizeOne({
      job,
      input: params.input,
      ...(job.useImatrix && params.imatrix ? { imatrix: params.imatrix } : {}),
      outDir: work,
      name: params.name,
      threads: availableParallelism(),
      toolchain: params.toolchain,
      ...(params.force ? { force: true } : {}),
      ...(params.signal ? { signal: params.signal } : {}),
    });
    const artifact = out.artifacts[0];
    if (!artifact) throw new Error(`candidate ${type} made no file`);
    const header = await readGguf({ file: join(work, artifact.path) });
    const shape = modelShape({ metadata: header.metadata, weightsBytes: header.bytes - header.tensorDataOffset, embeddingModel });
    const entry = { artifact, needBytes: (shape ? estimateMemory({ shape, ctx }).totalBytes : header.bytes) + (params.besideBytes ?? 0), cached: out.cached };
    made.set(type, entry);
    return entry;
  };
  const choices: QuantChoiceRecord[] = [];
  for (const budget of spec.fit) choices.push({ ...(yield* chooseForBudget({ budget, ctx, margin, reserve, candidates, reference, embeddingModel, make, besideBytes: params.besideBytes ?? 0 })), key });
  if (spec.maxKld !== undefined) choices.push({ ...(yield* chooseForKld({ params, maxKld: spec.maxKld, ctx, candidates, work, make })), key });
  const chosen = [...new Set(choices.map((c) => c.type))];
  const artifacts: Artifact[] = [];
  for (const type of chosen) {
    const entry = made.get(type);
    if (entry && !params.split) artifacts.push(await promote({ outDir: params.outDir, work, artifact: entry.artifact }));
  }
  await rememberChoice({ outDir: params.outDir, key, choices });
  const cached = [...made.values()].every((m) => m.cached);
  yield { type: "done", stage, title: `Chose ${describe(choices)}${cached ? " — cached" : ""}`, seconds: (Date.now() - started) / 1000, cached };
  return { chosen, choices, artifacts, cached };
}

function describe(choices: QuantChoiceRecord[]): string {
  return choices.map((c) => `${c.type} for ${c.budget ?? `KLD ≤ ${c.maxKld}`}`).join(", ");
}

async function* chooseForBudget(c: { budget: string; ctx: number; margin: number; reserve: number; candidates: string[]; reference: Awaited<ReturnType<typeof readGguf>>; embeddingModel: boolean; make: Make; besideBytes: number }): AsyncGenerator<StageEvent, QuantChoiceRecord> {
  const bytes = parseBudget(c.budget) ?? 0;
  const allowedBytes = Math.floor(bytes * (1 - c.margin) - c.reserve);
  const passedOver: string[] = [];
  for (const type of c.candidates) {
    // A candidate far over the budget by its nominal size is not worth making to find out.
    const shape = modelShape({ metadata: c.reference.metadata, weightsBytes: nominalQuantBytes({ type, parameters: c.reference.parameterCount }), embeddingModel: c.embeddingModel });
    const guess = (shape ? estimateMemory({ shape, ctx: c.ctx }).totalBytes : 0) + c.besideBytes;
    if (guess > allowedBytes * 1.25) {
      passedOver.push(`${type}: about ${mib(guess)} by its nominal size, over ${mib(allowedBytes)}`);
      continue;
    }
    const made = yield* c.make(type);
    if (made.needBytes <= allowedBytes) {
      yield { type: "progress", stage, message: `${c.budget}: ${type} needs ${mib(made.needBytes)} at ctx ${c.ctx} (at most ${mib(allowedBytes)} allowed)` };
      return { budget: c.budget, type, ctx: c.ctx, needBytes: made.needBytes, allowedBytes, passedOver };
    }
    passedOver.push(`${type}: needs ${mib(made.needBytes)}, over ${mib(allowedBytes)}`);
  }
  throw new PipelineError({
    message: `no candidate fits ${c.budget} at ctx ${c.ctx}: ${passedOver.at(-1) ?? "no candidates"}`,
    exitCode: 2,
    hint: "raise the budget, lower quants.ctx or quants.margin, or add smaller candidates",
  });
}

async function* chooseForKld(c: { params: ChooseQuantsParams; maxKld: number; ctx: number; candidates: string[]; work: string; make: Make }): AsyncGenerator<StageEvent, QuantChoiceRecord> {
  const { params } = c;
  const passedOver: string[] = [];
  // Smallest first: the first whose measured KL divergence stays under the bound is the answer.
  for (const type of [...c.candidates].reverse()) {
    const made = yield* c.make(type);
    const measured = yield* evaluateQuality({
      reference: params.input,
      quants: [made.artifact],
      outDir: c.work,
      text: params.evaluation.text,
      ctx: params.evaluation.ctx,
      ...(params.evaluation.chunks ? { chunks: params.evaluation.chunks } : {}),
      ...(params.evaluation.precision !== undefined ? { precision: params.evaluation.precision } : {}),
      toolchain: params.toolchain,
      ...(params.force ? { force: true } : {}),
      ...(params.signal ? { signal: params.signal } : {}),
    });
    const quality = measured.quality[made.artifact.path];
    const kld = quality && quality.kind !== "embedding" ? quality.kldMean : Number.POSITIVE_INFINITY;
    if (kld <= c.maxKld) {
      yield { type: "progress", stage, message: `KLD ≤ ${c.maxKld}: ${type} measures ${kld.toFixed(6)}` };
      return { maxKld: c.maxKld, type, ctx: c.ctx, needBytes: made.needBytes, kldMean: kld, passedOver };
    }
    passedOver.push(`${type}: mean KLD ${kld.toFixed(6)}, over ${c.maxKld}`);
  }
  throw new PipelineError({
    message: `no candidate keeps the mean KL divergence under ${c.maxKld}: ${passedOver.at(-1) ?? "no candidates"}`,
    exitCode: 2,
    hint: "raise quants.maxKld, or add better candidates",
  });
}

/** A file of the output folder into the candidates' folder under the same name (a hard link; a copy where none can be made). */
async function linkInto(params: { from: string; to: string; path: string }): Promise<void> {
  const target = join(params.to, params.path);
  await mkdir(dirname(target), { recursive: true });
  await rm(target, { force: true });
  await link(join(params.from, params.path), target).catch(() => copyFile(join(params.from, params.path), target));
}

/** A chosen candidate into the output folder under its own name and cache key (a hard link: no copy of the model). */
async function promote(params: { outDir: string; work: string; artifact: Artifact }): Promise<Artifact> {
  const to = join(params.outDir, params.artifact.path);
  const partial = tempPathFor(to);
  await rm(partial, { force: true });
  await link(join(params.work, params.artifact.path), partial).catch(() => copyFile(join(params.work, params.artifact.path), partial));
  await rename(partial, to);
  const { quality: _quality, ...artifact } = params.artifact;
  await recordArtifact({ outDir: params.outDir, artifact });
  return artifact;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
