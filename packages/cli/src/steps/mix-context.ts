import type { LoadedRecipe } from "@gguf-pipeline/core";
import { planProjector, type SourceModel } from "@gguf-pipeline/convert";
import { makesMmproj, mmprojOuttype } from "./mmproj-settings.js";
import type { AllocatedMix, MixContext } from "@gguf-pipeline/quantize";

/**
 * What the recipe's mixes are sized by: the model's weights and config, a vision model's projector (a budget holds it
 * too; estimated from the source, as before it is made), and the tensor types allocated so far.
 */
export function mixContext(prepared: { source: SourceModel; loaded: LoadedRecipe }, tensorTypes?: Record<string, AllocatedMix>): MixContext {
  const { source } = prepared;
  const besideBytes = makesMmproj(prepared) ? planProjector({ source, outtype: mmprojOuttype(prepared) }).estimatedBytes : 0;
  return { weights: source.parameterCount, config: source.config, ...(besideBytes ? { besideBytes } : {}), ...(tensorTypes ? { tensorTypes } : {}) };
}
