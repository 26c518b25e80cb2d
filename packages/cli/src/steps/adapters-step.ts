import { convertAdapter } from "@gguf-pipeline/merge";
import { planConvert } from "@gguf-pipeline/convert";
import { need, signalOf, type RunStep } from "./run-context.js";

const stage = "adapters";

/** Each PEFT LoRA adapter → a GGUF adapter with convert_lora_to_gguf.py (the recipe's source as its base). */
export const adaptersStep: RunStep = {
  stage,
  part: "convert",
  title: ({ prepared }) => `Adapters → GGUF adapters (${prepared.adapters.map((a) => a.name).join(", ")})`,
  applies: (prepared) => prepared.adapters.length > 0,
  run: async function* (ctx) {
    const { toolchain } = need(ctx);
    const { prepared } = ctx;
    const started = Date.now();
    let cached = true;
    for (const adapter of prepared.adapters) {
      const out = yield* convertAdapter({
        adapter: adapter.info,
        adapterName: adapter.name,
        source: prepared.source,
        outDir: prepared.loaded.outDir,
        name: prepared.loaded.name,
        outtype: prepared.loaded.outtype,
        toolchain,
        force: ctx.options.force,
        ...signalOf(ctx),
      });
      cached &&= out.cached;
      ctx.adapters.push({ artifact: out.artifact, name: adapter.name, scale: adapter.scale, rank: adapter.info.rank, alpha: adapter.info.alpha });
      ctx.artifacts.push(out.artifact);
    }
    yield { type: "done", stage, title: `${prepared.adapters.length} GGUF adapter(s)${cached ? " — cached" : ""}`, seconds: (Date.now() - started) / 1000, cached };
    return { cached };
  },
  // Their cache is decided at run time (after the base is converted): shown as to run.
  plan: async (ctx) => {
    const { prepared } = ctx;
    ctx.known = false;
    const type = planConvert({ source: prepared.source, outtype: prepared.loaded.outtype }).type;
    return prepared.adapters.map((a) => ({ stage: "adapter", what: `${a.info.dir} → ${prepared.loaded.name}-${a.name}-LoRA-${type}.gguf`, cached: false, bytes: 0 }));
  },
};
