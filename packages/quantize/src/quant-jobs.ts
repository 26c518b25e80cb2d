import type { Recipe } from "@gguf-pipeline/core";
import { findQuantType } from "./quant-types.js";

type QuantEntry = NonNullable<Recipe["quants"]>[number];
export type QuantOptions = NonNullable<Recipe["quantOptions"]>;

/** One rung of the ladder: a canonical type and the llama-quantize options it gets. */
export interface QuantJob {
  type: string;
  /** Options before the positional arguments, imatrix excluded (it is added when the imatrix exists). */
  options: string[];
  useImatrix: boolean;
}

/**
 * The ladder the recipe asks for, with quantOptions merged under each quant's own options.
 * Assumes checkQuantRecipe passed (every type known).
 */
export function quantJobs(recipe: Recipe): QuantJob[] {
  return (recipe.quants ?? []).map((entry: QuantEntry) => {
    const own = typeof entry === "string" ? { type: entry } : entry;
    const merged: QuantOptions & { type: string } = { ...recipe.quantOptions, ...own };
    const type = findQuantType(merged.type)?.name ?? merged.type.toUpperCase();
    return { type, options: quantizeOptions(merged), useImatrix: Boolean(recipe.imatrix) && merged.imatrix !== false };
  });
}

/** llama-quantize's option flags for a set of options, in a fixed order (the cache key and the by-hand command use it). */
export function quantizeOptions(options: QuantOptions): string[] {
  const args: string[] = [];
  if (options.allowRequantize) args.push("--allow-requantize");
  if (options.leaveOutputTensor) args.push("--leave-output-tensor");
  if (options.pure) args.push("--pure");
  if (options.outputTensorType) args.push("--output-tensor-type", options.outputTensorType);
  if (options.tokenEmbeddingType) args.push("--token-embedding-type", options.tokenEmbeddingType);
  for (const spec of options.tensorTypes ?? []) args.push("--tensor-type", spec);
  for (const spec of options.overrideKv ?? []) args.push("--override-kv", spec);
  return args;
}
