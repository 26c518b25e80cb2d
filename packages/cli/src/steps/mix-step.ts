import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findCachedArtifact, formatBytes, produceArtifact, readGguf, stableKey, type StageEvent } from "@gguf-pipeline/core";
import { allocateMix, calibrationText, mixTypes, promptSeconds, exactTensorPattern, measureSensitivity, quantJobs, sensitivityFile, tensorGroups, type AllocatedMix, type QuantJob, type Sensitivity, type TensorGroup } from "@gguf-pipeline/quantize";
import { formatDuration } from "../format-duration.js";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { need, signalOf, type PlanContext, type PlannedStep, type RunStep } from "./run-context.js";
import { mixContext } from "./mix-context.js";

const stage = "mix";
/** Chunks of the calibration text each sensitivity probe is measured on. */
const SENSITIVITY_CHUNKS = 16;

/** The recipe's mixes, named by their labels (the model's weights turn a size into bits per weight). */
export function mixJobs(prepared: PreparedRecipe): QuantJob[] {
  return quantJobs(prepared.loaded.recipe, [], mixContext(prepared)).filter((j) => j.mix);
}

/**
 * The tensor types of every mix the recipe asks for: each tensor group's sensitivity measured once (cached per
 * intermediate, importance matrix and calibration text), then each mix's allocation under its size, written as
 * `<name>-<label>.tensor-types.txt` (llama-quantize --tensor-type-file) for the quantize step.
 */
export const mixStep: RunStep = {
  stage,
  part: "quantize",
  title: () => "Mixes by measured sensitivity",
  applies: (prepared, options: { publish: boolean; only?: string }) => mixJobs(prepared).some((j) => !options.only || j.type.toLowerCase() === options.only.toLowerCase()),
  run: async function* (ctx) {
    const started = Date.now();
    const { toolchain, intermediate } = need(ctx);
    const { loaded } = ctx.prepared;
    const jobs = mixJobs(ctx.prepared);
    const header = await readGguf({ file: join(loaded.outDir, intermediate.path) });
    const groups = tensorGroups({ tensors: header.tensors });
    const im = loaded.recipe.imatrix;
    const measured = yield* measureSensitivity({
      reference: intermediate,
      ...(ctx.imatrix && jobs.some((j) => j.useImatrix) ? { imatrix: ctx.imatrix } : {}),
      groups,
      outDir: loaded.outDir,
      text: calibrationText(loaded),
      ctx: im?.ctx ?? 512,
      chunks: SENSITIVITY_CHUNKS,
      toolchain,
      force: ctx.options.force,
      ...signalOf(ctx),
    });
    const mixes: Record<string, AllocatedMix> = {};
    let cached = measured.cached;
    for (const job of jobs) {
      const file = `${loaded.name}-${job.type}.gguf`;
      const mix = allocateMix({ groups, sensitivity: measured.sensitivity, targetBytes: job.mix?.target.bytes ?? 0, file });
      const lines = tensorTypeLines(groups, mix.types);
      const counts = Object.entries(Object.values(mix.types).reduce<Record<string, number>>((n, t) => ({ ...n, [t]: (n[t] ?? 0) + 1 }), {}));
      yield { type: "progress", stage, message: `${file}: ${formatBytes(mix.bytes)} for ${targetText(job)}, predicted KLD ${mix.predictedKld.toFixed(6)}; groups at ${counts.map(([t, n]) => `${t} ×${n}`).join(", ")}` };
      const out = yield* produceArtifact({
        stage: `${stage}:${job.type}`,
        outDir: loaded.outDir,
        path: `${loaded.name}-${job.type}.tensor-types.txt`,
        cacheKey: stableKey({ stage, lines }),
        title: `Write ${loaded.name}-${job.type}.tensor-types.txt`,
        force: ctx.options.force,
        make: async function* (partial): AsyncGenerator<StageEvent, void> {
          await writeFile(partial, `${lines.join("\n")}\n`);
          yield { type: "progress", stage: `${stage}:${job.type}`, message: `${lines.length} tensors` };
        },
      });
      cached &&= out.cached;
      ctx.artifacts.push(out.artifact);
      mixes[job.type] = { path: out.artifact.path, sha256: out.artifact.sha256, predictedBytes: mix.bytes, predictedKld: Math.round(mix.predictedKld * 1e6) / 1e6 };
    }
    ctx.mixes = mixes;
    yield { type: "done", stage, title: `Mixes: ${Object.keys(mixes).join(", ")}${cached ? " — cached" : ""}`, seconds: (Date.now() - started) / 1000, cached };
    return { cached };
  },
  plan: async (ctx) => {
    const { loaded } = ctx.prepared;
    const jobs = mixJobs(ctx.prepared);
    const measured = await measuredSensitivity(ctx, jobs);
    if (!measured) ctx.known = false;
    const steps: PlannedStep[] = [];
    for (const j of jobs) {
      const target = targetText(j);
      if (!measured) {
        steps.push({ stage, what: `sensitivity of each tensor group on ${SENSITIVITY_CHUNKS} chunks of the calibration text${sensitivityTime(ctx)}, then ${loaded.name}-${j.type}.tensor-types.txt for ${target}`, cached: false, bytes: 10_000 });
        continue;
      }
      // Measured before: the allocation, and so the file's exact size and its tensor-type file, are known now.
      const mix = allocateMix({ ...measured, targetBytes: j.mix?.target.bytes ?? 0, file: `${loaded.name}-${j.type}.gguf` });
      const path = `${loaded.name}-${j.type}.tensor-types.txt`;
      const found = ctx.force ? undefined : await findCachedArtifact({ outDir: loaded.outDir, cacheKey: stableKey({ stage, lines: tensorTypeLines(measured.groups, mix.types) }), path });
      if (found) {
        ctx.artifacts.push(found);
        ctx.mixes = { ...ctx.mixes, [j.type]: { path, sha256: found.sha256, predictedBytes: mix.bytes, predictedKld: Math.round(mix.predictedKld * 1e6) / 1e6 } };
      } else ctx.known = false;
      steps.push({ stage, what: `${loaded.name}-${j.type}.gguf for ${target}: exactly ${mix.bytes} bytes, predicted KLD ${mix.predictedKld.toFixed(6)} (sensitivity measured)`, cached: Boolean(found), bytes: found ? 0 : 10_000 });
    }
    return steps;
  },
};

/** The sensitivity measured before for this intermediate, matrix and text (a plan reads it; none before the first run). */
async function measuredSensitivity(ctx: PlanContext, jobs: QuantJob[]): Promise<{ groups: TensorGroup[]; sensitivity: Sensitivity } | undefined> {
  const { loaded } = ctx.prepared;
  if (!ctx.intermediate || (jobs.some((j) => j.useImatrix) && !ctx.imatrix)) return undefined;
  const groups = tensorGroups({ tensors: (await readGguf({ file: join(loaded.outDir, ctx.intermediate.path) })).tensors });
  const imatrix = ctx.imatrix && jobs.some((j) => j.useImatrix) ? { imatrix: ctx.imatrix } : {};
  const file = await sensitivityFile({ reference: ctx.intermediate, ...imatrix, groups, outDir: loaded.outDir, text: calibrationText(loaded), ctx: loaded.recipe.imatrix?.ctx ?? 512, chunks: SENSITIVITY_CHUNKS, commit: ctx.toolchain.llamaCpp.commit });
  const sensitivity = await readFile(file, "utf8").then((t) => JSON.parse(t) as Sensitivity, () => undefined);
  return sensitivity ? { groups, sensitivity } : undefined;
}

/** What a mix was asked for: a size (and its bits per weight), or a budget at a context and the size it leaves. */
function targetText(job: QuantJob): string {
  const t = job.mix?.target;
  if (!t) return "";
  const size = `${formatBytes(t.bytes)} (${t.bpw.toFixed(2)} bpw)`;
  return t.fit ? `${t.fit.budget} at ctx ${t.fit.ctx}: ${size} after the KV cache, buffers, margin and reserve` : size;
}

/** The --tensor-type-file lines: one exact pattern per tensor, with its group's type. */
function tensorTypeLines(groups: TensorGroup[], types: Record<string, string>): string[] {
  return groups.flatMap((g) => g.tensors.map((t) => `${exactTensorPattern(t.name)}=${types[g.name] ?? "q8_0"}`));
}

/**
 * About how long the sensitivity pass will take here (the self-test's throughput): a llama-perplexity run over the
 * chunks for each tensor group (each layer's 7 kinds, the embeddings and the output; at most 64) and each of the 6 mix
 * types. The llama-quantize runs beside them are not counted.
 */
function sensitivityTime(ctx: PlanContext): string {
  const speed = ctx.toolchain.selfTest?.throughput?.flopsPerSecond;
  const layers = ctx.prepared.source.config.num_hidden_layers;
  if (!speed || typeof layers !== "number") return "";
  const runs = mixTypes.length + Math.min(64, layers * 7 + 2);
  const tokens = SENSITIVITY_CHUNKS * (ctx.prepared.loaded.recipe.imatrix?.ctx ?? 512);
  return ` (${runs} runs, about ${formatDuration(runs * promptSeconds({ weights: ctx.prepared.source.parameterCount, tokens, flopsPerSecond: speed }))} here)`;
}
