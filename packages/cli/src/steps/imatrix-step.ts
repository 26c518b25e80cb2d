import { basename } from "node:path";
import { findCachedArtifact, hashFile, type Recipe } from "@gguf-pipeline/core";
import { calibrationText, computeImatrix, imatrixCacheKey, quantChoiceSpec, quantJobs } from "@gguf-pipeline/quantize";
import { need, signalOf, type RunStep } from "./run-context.js";

const stage = "imatrix";

/** One llama-imatrix run on the intermediate, used by every quant that does not opt out. */
export const imatrixStep: RunStep = {
  stage,
  part: "imatrix",
  title: () => "Importance matrix",
  // A budget choice's candidates use the recipe's imatrix too.
  applies: (prepared) => quantJobs(prepared.loaded.recipe).some((j) => j.useImatrix) || Boolean(quantChoiceSpec(prepared.loaded.recipe) && prepared.loaded.recipe.imatrix),
  run: async function* (ctx) {
    const { toolchain, intermediate } = need(ctx);
    const { loaded } = ctx.prepared;
    const im: Partial<NonNullable<Recipe["imatrix"]>> = loaded.recipe.imatrix ?? {};
    const out = yield* computeImatrix({ input: intermediate, outDir: loaded.outDir, name: loaded.name, text: calibrationText(loaded), ctx: im.ctx ?? 512, ...(im.chunks ? { chunks: im.chunks } : {}), toolchain, force: ctx.options.force, ...signalOf(ctx) });
    ctx.imatrix = out.artifact;
    ctx.artifacts.push(out.artifact);
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { loaded } = ctx.prepared;
    const text = calibrationText(loaded);
    const im = loaded.recipe.imatrix;
    const key = ctx.intermediate
      ? imatrixCacheKey({ input: ctx.intermediate.sha256, text: (await hashFile({ file: text })).sha256, textName: basename(text), ctx: im?.ctx ?? 512, ...(im?.chunks ? { chunks: im.chunks } : {}), commit: ctx.toolchain.llamaCpp.commit })
      : undefined;
    const found = key && !ctx.force ? await findCachedArtifact({ outDir: loaded.outDir, cacheKey: key, path: `${loaded.name}.imatrix.gguf` }) : undefined;
    if (found) {
      ctx.imatrix = found;
      ctx.artifacts.push(found);
    } else ctx.known = false;
    return [{ stage, what: `llama-imatrix on ${basename(text)} → ${loaded.name}.imatrix.gguf`, cached: Boolean(found), bytes: found ? 0 : 10_000_000 }];
  },
};
