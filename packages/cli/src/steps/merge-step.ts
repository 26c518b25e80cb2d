import { planConvert } from "@gguf-pipeline/convert";
import { mergeAdapters } from "@gguf-pipeline/merge";
import { need, signalOf, type RunStep } from "./run-context.js";

const stage = "merge";

/** The GGUF adapters merged into the converted base with llama-export-lora: the quants are made from the result. */
export const mergeStep: RunStep = {
  stage,
  part: "convert",
  title: () => "Merge adapters",
  applies: (prepared) => prepared.merge,
  run: async function* (ctx) {
    const { toolchain, convert } = need(ctx);
    const { prepared } = ctx;
    const baseModels = prepared.loaded.recipe.metadata?.baseModels;
    const out = yield* mergeAdapters({ base: convert, adapters: ctx.adapters, source: prepared.source, ...(baseModels ? { baseModels } : {}), outDir: prepared.loaded.outDir, name: prepared.loaded.name, toolchain, force: ctx.options.force, ...signalOf(ctx) });
    ctx.artifacts.push(out.artifact);
    ctx.intermediate = out.artifact;
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { prepared } = ctx;
    const estimate = planConvert({ source: prepared.source, outtype: prepared.loaded.outtype });
    // The merged model's cache depends on the adapters' GGUFs, known only at run time: nothing after it is cached either.
    delete ctx.intermediate;
    return [{ stage, what: `llama-export-lora ${prepared.adapters.map((a) => `${a.name}×${a.scale}`).join(" + ")} → ${prepared.loaded.name}-${estimate.type}.gguf`, cached: false, bytes: estimate.estimatedBytes }];
  },
};
