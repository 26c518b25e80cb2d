import { join } from "node:path";
import { freemem } from "node:os";
import { configShape, estimateMemory, modelKind, readGguf, type Recipe } from "@gguf-pipeline/core";
import { formatBytes, planConvert } from "@gguf-pipeline/convert";
import { evaluateEmbeddings, evaluateQuality, evaluationText, quantJobs } from "@gguf-pipeline/quantize";
import { need, signalOf, type RunStep } from "./run-context.js";

const stage = "evaluate";

/**
 * Every quant measured against the intermediate: perplexity and KL divergence with llama-perplexity for a
 * text-generation model, cosine similarity of llama-embedding's vectors for an embedding model.
 */
export const evaluateStep: RunStep = {
  stage,
  part: "gather",
  title: () => "Quality",
  applies: (prepared) => Boolean(prepared.loaded.recipe.evaluate) && quantJobs(prepared.loaded.recipe).length > 0,
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
        : evaluateQuality({ ...common, ctx: ev.ctx ?? 512 });
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
    return { cached };
  },
  plan: async ({ prepared }) => {
    // llama-perplexity holds the reference (the biggest file) at the evaluation context: say so when it will not fit.
    const { source, loaded } = prepared;
    const ctx = loaded.recipe.evaluate?.ctx ?? 512;
    const shape = configShape({ config: source.config, weightsBytes: planConvert({ source, outtype: loaded.outtype }).estimatedBytes });
    const need = shape ? estimateMemory({ shape, ctx, ubatch: ctx }).totalBytes : 0;
    const warning = need > freemem() ? ` — WARNING: the reference needs ~${formatBytes(need)} at ctx ${ctx}, ${formatBytes(freemem())} of memory is free` : shape ? ` (~${formatBytes(need)} of memory)` : "";
    return [{ stage, what: `llama-perplexity (llama-embedding for an embedding model) on the reference and each quant (cached per file)${warning}`, cached: false, bytes: 0 }];
  },
};

function contextLength(metadata: Record<string, unknown>): number | undefined {
  const value = metadata[`${String(metadata["general.architecture"])}.context_length`];
  return typeof value === "number" ? value : undefined;
}
