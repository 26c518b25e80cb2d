import { formatBytes } from "@gguf-pipeline/core";
import { convertModel, planProjector } from "@gguf-pipeline/convert";
import { makesMmproj, mmprojOuttype } from "./mmproj-settings.js";
import { findPlannedConversion } from "./find-planned-conversion.js";
import { signalOf, type RunStep } from "./run-context.js";

const stage = "mmproj";

/**
 * A vision-language model's projector, with llama.cpp's convert_hf_to_gguf.py --mmproj: `mmproj-<name>-<TYPE>.gguf`,
 * once (never quantized with the ladder: llama-quantize does not take projectors), stamped like the text model
 * (metadata, license) and cached like it. The adapters are merged into the text model only.
 */
export const mmprojStep: RunStep = {
  stage,
  part: "convert",
  title: ({ prepared }) => `Projector of ${prepared.loaded.name} → GGUF (${mmprojOuttype(prepared)})`,
  applies: (prepared) => makesMmproj(prepared),
  run: async function* (ctx) {
    const { prepared } = ctx;
    if (!ctx.toolchain) throw new Error("the toolchain step did not run");
    const out = yield* convertModel({ source: prepared.source, outDir: prepared.loaded.outDir, name: prepared.loaded.name, outtype: mmprojOuttype(prepared), metadata: prepared.metadata, toolchain: ctx.toolchain, mmproj: true, force: ctx.options.force, ...signalOf(ctx) });
    ctx.mmproj = out.artifact;
    ctx.artifacts.push(out.artifact);
    return { cached: out.cached };
  },
  plan: async (ctx) => {
    const { prepared } = ctx;
    const { loaded, source } = prepared;
    const outtype = mmprojOuttype(prepared);
    const found = await findPlannedConversion(ctx, { name: loaded.name, outtype, mmproj: true });
    if (found) {
      ctx.mmproj = found;
      ctx.artifacts.push(found);
    } else ctx.known = false;
    const bytes = planProjector({ source, outtype }).estimatedBytes;
    return [{ stage, what: `${source.dir} → mmproj-${loaded.name}-${outtype.toUpperCase()}.gguf, the ${source.vision?.architecture ?? ""} projector (~${formatBytes(bytes)})`, cached: Boolean(found), bytes: found ? 0 : bytes }];
  },
};
