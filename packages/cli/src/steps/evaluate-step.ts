import { join } from "node:path";
import { freemem } from "node:os";
import { stat, writeFile } from "node:fs/promises";
import { configShape, estimateMemory, formatBytes, modelKind, modelShape, produceArtifact, readGguf, smallestBudget, stableKey, type GgufSummary, type Quality, type Recipe } from "@gguf-pipeline/core";
import { planConvert } from "@gguf-pipeline/convert";
import { evaluateEmbeddings, evaluateQuality, evaluationText, preloadQualityChart, promptSeconds, qualityChartVersion, quantChoiceSpec, quantJobs, renderQualityChart, type QualityPoint } from "@gguf-pipeline/quantize";
import { formatDuration } from "../format-duration.js";
import { need, signalOf, type RunContext, type RunStep } from "./run-context.js";

const stage = "evaluate";

/**
 * Every quant measured against the intermediate: perplexity and KL divergence with llama-perplexity for a
 * text-generation model, cosine similarity of llama-embedding's vectors for an embedding model.
 */
export const evaluateStep: RunStep = {
  stage,
  part: "gather",
  title: () => "Quality",
  applies: (prepared) => Boolean(prepared.loaded.recipe.evaluate) && (quantJobs(prepared.loaded.recipe).length > 0 || Boolean(quantChoiceSpec(prepared.loaded.recipe))),
  run: async function* (ctx) {
    const { toolchain, intermediate } = need(ctx);
    const { loaded } = ctx.prepared;
    const ev: Partial<NonNullable<Recipe["evaluate"]>> = loaded.recipe.evaluate ?? {};
    // A split quant is measured through its first shard (llama.cpp loads the rest); after a failed rung, the rungs that
    // finished are still measured.
    const quants = ctx.artifacts.filter((a) => a.stage === "quantize" && (!a.quant?.shard || a.quant.shard.index === 1));
    const header = await readGguf({ file: join(loaded.outDir, intermediate.path) });
    const kind = modelKind({ metadata: header.metadata });
    const common = { reference: intermediate, quants, outDir: loaded.outDir, text: evaluationText(loaded), ...(ev.chunks ? { chunks: ev.chunks } : {}), toolchain, force: ctx.options.force, ...signalOf(ctx) };
    let out;
    let cached = false;
    const run =
      kind.kind === "embedding"
        ? evaluateEmbeddings({ ...common, ctx: Math.min(ev.ctx ?? 512, contextLength(header.metadata) ?? 512) })
        : evaluateQuality({ ...common, ctx: ev.ctx ?? 512, ...(ev.precision !== undefined ? { precision: ev.precision } : {}) });
    for (;;) {
      const next = await run.next();
      if (next.done) {
        out = next.value;
        break;
      }
      if (next.value.type === "done") cached = next.value.cached;
      yield next.value;
    }
    const quality = out.quality;
    ctx.artifacts = ctx.artifacts.map((a) => (quality[a.path] ? { ...a, quality: quality[a.path] } : a));
    const chart = yield* drawChart({ ctx, header, quality });
    ctx.artifacts.push(chart.artifact);
    return { cached: cached && chart.cached };
  },
  plan: async (ctx) => {
    // llama-perplexity holds the reference (the biggest file) at the evaluation context: say so when it will not fit.
    const { source, loaded } = ctx.prepared;
    const evalCtx = loaded.recipe.evaluate?.ctx ?? 512;
    const shape = configShape({ config: source.config, weightsBytes: planConvert({ source, outtype: loaded.outtype }).estimatedBytes });
    const need = shape ? estimateMemory({ shape, ctx: evalCtx, ubatch: evalCtx }).totalBytes : 0;
    const warning = need > freemem() ? ` — WARNING: the reference needs ~${formatBytes(need)} at ctx ${evalCtx}, ${formatBytes(freemem())} of memory is free` : shape ? ` (~${formatBytes(need)} of memory)` : "";
    // At most the whole text for the reference and every quant (about 4 characters a token); the precision stops sooner.
    const speed = ctx.toolchain.selfTest?.throughput?.flopsPerSecond;
    const weights = planConvert({ source, outtype: "f16" }).estimatedBytes / 2;
    const tokens = Math.min((await stat(evaluationText(loaded))).size / 4, (loaded.recipe.evaluate?.chunks ?? Number.POSITIVE_INFINITY) * evalCtx);
    const files = 1 + quantJobs(loaded.recipe).length;
    const time = speed ? `; at most about ${formatDuration(promptSeconds({ weights, tokens: tokens * files, flopsPerSecond: speed }))} here for ${files} files, less once the KLD is within ±${+((loaded.recipe.evaluate?.precision ?? 0.05) * 100).toFixed(2)} %` : "";
    return [{ stage, what: `llama-perplexity (llama-embedding for an embedding model) on the reference and each quant${time}${warning}`, cached: false, bytes: 0 }];
  },
  // Vega takes ~0.2 s to load: while the converter starts, not after the last measurement.
  warmUp: preloadQualityChart,
};

/**
 * The trade-off drawn: `<name>-quality.svg` beside the files (published with them, shown on the card), each quant's
 * bits per weight against its quality, coloured by the smallest common memory budget it fits at 4k context (or the
 * model's own, when shorter).
 */
async function* drawChart(params: { ctx: RunContext; header: GgufSummary; quality: Record<string, Quality> }) {
  const { loaded } = params.ctx.prepared;
  const at = Math.min(4096, contextLength(params.header.metadata) ?? 4096);
  const kind = modelKind({ metadata: params.header.metadata }).kind;
  const points: QualityPoint[] = [];
  for (const artifact of params.ctx.artifacts) {
    const q = params.quality[artifact.path];
    if (!q || !artifact.path.endsWith(".gguf")) continue;
    const shape = modelShape({ metadata: params.header.metadata, weightsBytes: artifact.bytes, embeddingModel: kind === "embedding" });
    const budget = shape ? smallestBudget(estimateMemory({ shape, ctx: at }).totalBytes) : undefined;
    points.push({
      type: artifact.quant?.type ?? artifact.ggufType ?? artifact.path,
      bitsPerWeight: artifact.quant?.bitsPerWeight ?? Math.round(((artifact.bytes * 8) / params.header.parameterCount) * 1000) / 1000,
      ...(q.kind === "embedding" ? { cosineMean: q.cosineMean } : { kldMean: q.kldMean, ppl: q.ppl }),
      fits: budget ? `${budget} GB` : "over 24 GB",
    });
  }
  const title = `${loaded.name}: size against quality`;
  // Its own stage: its events are lines under the step, its done does not retitle it.
  return yield* produceArtifact({
    stage: `${stage}:chart`,
    outDir: loaded.outDir,
    path: `${loaded.name}-quality.svg`,
    cacheKey: stableKey({ chart: qualityChartVersion, title, points, at }),
    title: `Draw ${loaded.name}-quality.svg`,
    force: params.ctx.options.force,
    make: async function* (partial) {
      await writeFile(partial, await renderQualityChart({ title, points, ctx: at }));
      yield { type: "progress", stage: `${stage}:chart`, message: `drew ${points.length} point(s)` };
    },
  });
}

function contextLength(metadata: Record<string, unknown>): number | undefined {
  const value = metadata[`${String(metadata["general.architecture"])}.context_length`];
  return typeof value === "number" ? value : undefined;
}
