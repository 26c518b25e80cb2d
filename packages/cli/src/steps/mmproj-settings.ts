import type { LoadedRecipe } from "@gguf-pipeline/core";
import type { SourceModel } from "@gguf-pipeline/convert";

/** The projector's type: the recipe's, else F16 (what llama.cpp's own releases of vision models ship). */
export function mmprojOuttype(prepared: { loaded: LoadedRecipe }): "f32" | "f16" | "bf16" | "q8_0" {
  const mmproj = prepared.loaded.recipe.mmproj;
  return (mmproj === false ? undefined : mmproj?.outtype) ?? "f16";
}

/** Whether the run makes a projector: a vision-language model the converter exports one for, unless the recipe says no. */
export function makesMmproj(prepared: { source: SourceModel; loaded: LoadedRecipe }): boolean {
  return Boolean(prepared.source.vision) && prepared.loaded.recipe.mmproj !== false;
}
