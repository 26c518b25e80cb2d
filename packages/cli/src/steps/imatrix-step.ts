import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { findCachedArtifact, hashFile, readGguf, type Recipe } from "@gguf-pipeline/core";
import { planConvert } from "@gguf-pipeline/convert";
import { calibrationText, computeImatrix, defaultImatrixChunks, imatrixCacheKey, promptSeconds, quantChoiceSpec, quantJobs } from "@gguf-pipeline/quantize";
import { formatCount, formatDuration } from "../format-duration.js";
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
    const chunks = im.chunks ?? defaultImatrixChunks({ weights: (await readGguf({ file: join(loaded.outDir, intermediate.path) })).parameterCount, ctx: im.ctx ?? 512 });
    const out = yield* computeImatrix({ input: intermediate, outDir: loaded.outDir, name: loaded.name, text: calibrationText(loaded), ctx: im.ctx ?? 512, chunks, toolchain, force: ctx.options.force, ...signalOf(ctx) });
    ctx.imatrix = out.artifact;
    ctx.artifacts.push(out.artifact);
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { loaded } = ctx.prepared;
    const text = calibrationText(loaded);
    const im = loaded.recipe.imatrix;
    const weights = ctx.intermediate ? (await readGguf({ file: join(loaded.outDir, ctx.intermediate.path) })).parameterCount : planConvert({ source: ctx.prepared.source, outtype: "f16" }).estimatedBytes / 2;
    const chunks = im?.chunks ?? defaultImatrixChunks({ weights, ctx: im?.ctx ?? 512 });
    const key = ctx.intermediate
      ? imatrixCacheKey({ input: ctx.intermediate.sha256, text: (await hashFile({ file: text })).sha256, textName: basename(text), ctx: im?.ctx ?? 512, chunks, commit: ctx.toolchain.llamaCpp.commit })
      : undefined;
    const found = key && !ctx.force ? await findCachedArtifact({ outDir: loaded.outDir, cacheKey: key, path: `${loaded.name}.imatrix.gguf` }) : undefined;
    if (found) {
      ctx.imatrix = found;
      ctx.artifacts.push(found);
    } else ctx.known = false;
    // At most `chunks` chunks of the text (the text may be shorter: about 4 characters a token).
    const n = im?.ctx ?? 512;
    const textChunks = Math.max(1, Math.floor((await stat(text)).size / 4 / n));
    const tokens = Math.min(chunks, textChunks) * n;
    const speed = ctx.toolchain.selfTest?.throughput?.flopsPerSecond;
    const whose = im?.chunks ? "" : ` (the default for ${formatCount(weights)} weights)`;
    const how = chunks >= textChunks ? `the whole text, about ${textChunks} chunks of ${n}${whose}` : `${chunks} chunks of ${n}${whose}`;
    const time = speed ? `, about ${formatDuration(promptSeconds({ weights, tokens, flopsPerSecond: speed }))} here` : "";
    return [{ stage, what: `llama-imatrix on ${basename(text)}, ${how}${time} → ${loaded.name}.imatrix.gguf`, cached: Boolean(found), bytes: found ? 0 : 10_000_000 }];
  },
};
