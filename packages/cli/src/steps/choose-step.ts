import { configShape, estimateMemory, formatBytes, parseBudget } from "@gguf-pipeline/core";
import { chooseQuants, defaultCandidates, defaultMargin, defaultReserve, evaluationText, nominalQuantBytes, quantChoiceSpec, type QuantChoiceSpec } from "@gguf-pipeline/quantize";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { need, signalOf, type RunStep } from "./run-context.js";

const stage = "choose";

/** Quants chosen by memory budget and measured quality (the recipe's `quants: { fit, ctx, maxKld }`). */
export const chooseStep: RunStep = {
  stage,
  part: "choose",
  title: ({ prepared }) => `Choose quants for ${quantChoiceSpec(prepared.loaded.recipe)?.fit.join(", ") ?? ""}`,
  applies: (prepared) => Boolean(quantChoiceSpec(prepared.loaded.recipe)),
  run: async function* (ctx) {
    const { toolchain, intermediate } = need(ctx);
    const { loaded } = ctx.prepared;
    const spec = quantChoiceSpec(loaded.recipe);
    if (!spec) throw new Error("the choose step runs only for quants chosen by budget");
    const ev = loaded.recipe.evaluate;
    const split = loaded.recipe.split?.maxSize;
    ctx.chosen = yield* chooseQuants({
      spec,
      recipe: loaded.recipe,
      input: intermediate,
      ...(ctx.imatrix ? { imatrix: ctx.imatrix } : {}),
      outDir: loaded.outDir,
      name: loaded.name,
      ...(split ? { split } : {}),
      evaluation: { text: evaluationText(loaded), ctx: ev?.ctx ?? 512, ...(ev?.chunks ? { chunks: ev.chunks } : {}), ...(ev?.precision !== undefined ? { precision: ev.precision } : {}) },
      toolchain,
      // A vision model's projector is loaded beside whichever file is chosen.
      ...(ctx.mmproj ? { besideBytes: ctx.mmproj.bytes } : {}),
      force: ctx.options.force,
      ...signalOf(ctx),
    });
    ctx.artifacts.push(...ctx.chosen.artifacts);
    return { cached: ctx.chosen.cached };
  },
  plan: async ({ prepared }) => {
    const spec = quantChoiceSpec(prepared.loaded.recipe);
    if (!spec) return [];
    return [{ stage, what: planChoice(prepared, spec), cached: false, bytes: 0 }];
  },
};

/** What plan can say before any file exists: for each budget, the likely choice by our estimate from config.json. */
function planChoice(prepared: PreparedRecipe, spec: QuantChoiceSpec): string {
  const ctx = spec.ctx ?? 4096;
  const margin = spec.margin ?? defaultMargin;
  const reserve = parseBudget(spec.reserve ?? defaultReserve) ?? 0;
  const candidates = (spec.candidates ?? defaultCandidates).map((c) => c.toUpperCase());
  const { source } = prepared;
  const needOf = (type: string) => {
    const shape = configShape({ config: source.config, weightsBytes: nominalQuantBytes({ type, parameters: source.parameterCount }) });
    return shape ? estimateMemory({ shape, ctx }).totalBytes : undefined;
  };
  const budgets = spec.fit.map((budget) => {
    const allowed = (parseBudget(budget) ?? 0) * (1 - margin) - reserve;
    const likely = candidates.find((type) => (needOf(type) ?? Number.POSITIVE_INFINITY) <= allowed);
    const need = likely ? needOf(likely) : undefined;
    return `${budget} → likely ${likely ?? "none of them"}${need ? ` (~${formatBytes(need)} of ${formatBytes(allowed)})` : ""}`;
  });
  const rule = `the best of ${candidates.join(", ")} whose memory at ctx ${ctx} fits with ${Math.round(margin * 100)}% and ${spec.reserve ?? defaultReserve} to spare, judged on the made files`;
  const kld = spec.maxKld === undefined ? "" : `; the smallest whose measured mean KLD ≤ ${spec.maxKld} (made and measured)`;
  return `${budgets.join(", ")}: ${rule}${kld}`;
}
