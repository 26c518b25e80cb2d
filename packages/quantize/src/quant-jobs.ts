import type { Recipe } from "@gguf-pipeline/core";
import { findQuantType } from "./quant-types.js";

export type QuantLadder = Extract<NonNullable<Recipe["quants"]>, unknown[]>;
/** quants chosen by memory budget (and measured quality) instead of listed. */
export type QuantChoiceSpec = Exclude<NonNullable<Recipe["quants"]>, unknown[]>;
type QuantEntry = QuantLadder[number];
export type QuantOptions = NonNullable<Recipe["quantOptions"]>;

/** One rung of the ladder: a canonical type and the llama-quantize options it gets. */
export interface QuantJob {
  type: string;
  /** Options before the positional arguments, imatrix excluded (it is added when the imatrix exists). */
  options: string[];
  useImatrix: boolean;
}

/** The entries a recipe lists: the ladder, or a budget choice's `also` (its chosen types come from chooseQuants). */
export function listedQuants(recipe: Recipe): QuantEntry[] {
  const quants = recipe.quants;
  if (!quants) return [];
  return Array.isArray(quants) ? quants : (quants.also ?? []);
}

/** The recipe's budget choice, when its quants are chosen rather than listed. */
export function quantChoiceSpec(recipe: Recipe): QuantChoiceSpec | undefined {
  const quants = recipe.quants;
  return quants && !Array.isArray(quants) ? quants : undefined;
}

/**
 * The ladder the recipe asks for, with quantOptions merged under each quant's own options; for a budget choice, its
 * `also` and the types chosen for it (`chosen`, once known). Assumes checkQuantRecipe passed (every type known).
 */
export function quantJobs(recipe: Recipe, chosen: string[] = []): QuantJob[] {
  const entries: QuantEntry[] = [...listedQuants(recipe)];
  for (const type of chosen) if (!entries.some((e) => (findQuantType(typeof e === "string" ? e : e.type)?.name ?? "") === type)) entries.push(type);
  return entries.map((entry: QuantEntry) => {
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
