import { formatBytes } from "@gguf-pipeline/core";
import { convertModel, planConvert } from "@gguf-pipeline/convert";
import { findPlannedConversion } from "./find-planned-conversion.js";
import { signalOf, type RunStep } from "./run-context.js";
import type { PreparedRecipe } from "../prepare-recipe.js";

const stage = "convert";

/** A model that gets adapters merged is converted as `<name>-base`; the merged model takes `<name>`. */
function convertName(prepared: PreparedRecipe): string {
  return prepared.merge ? `${prepared.loaded.name}-base` : prepared.loaded.name;
}

/** safetensors → GGUF with llama.cpp's convert_hf_to_gguf.py. */
export const convertStep: RunStep = {
  stage,
  part: "convert",
  title: ({ prepared }) => `Convert ${prepared.loaded.name} → GGUF (${prepared.loaded.outtype})`,
  applies: () => true,
  run: async function* (ctx) {
    const { prepared } = ctx;
    const toolchain = ctx.toolchain;
    if (!toolchain) throw new Error("the toolchain step did not run");
    const out = yield* convertModel({ source: prepared.source, outDir: prepared.loaded.outDir, name: convertName(prepared), outtype: prepared.loaded.outtype, metadata: prepared.metadata, toolchain, force: ctx.options.force, ...signalOf(ctx), ...(ctx.warmUp ? { whileConverting: ctx.warmUp } : {}) });
    ctx.convert = out.artifact;
    ctx.intermediate = out.artifact;
    ctx.artifacts.push(out.artifact);
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { prepared } = ctx;
    const { loaded, source } = prepared;
    const converted = await findPlannedConversion(ctx, { name: convertName(prepared), outtype: loaded.outtype });
    if (converted) {
      ctx.convert = converted;
      ctx.intermediate = converted;
      ctx.artifacts.push(converted);
    } else ctx.known = false;
    const estimate = planConvert({ source, outtype: loaded.outtype });
    return [{ stage, what: `${source.dir} → ${convertName(prepared)}-${estimate.type}.gguf (~${formatBytes(estimate.estimatedBytes)})`, cached: Boolean(converted), bytes: converted ? 0 : estimate.estimatedBytes }];
  },
};
