import { configShape, estimateMemory, parseBudget, type Recipe } from "@gguf-pipeline/core";
import { mixLabel } from "./mix-types.js";
import { parseFileSize } from "./parse-size.js";
import { findQuantType } from "./quant-types.js";

export type QuantLadder = Extract<NonNullable<Recipe["quants"]>, unknown[]>;
/** quants chosen by memory budget (and measured quality) instead of listed. */
export type QuantChoiceSpec = Exclude<NonNullable<Recipe["quants"]>, unknown[]>;
export type QuantEntry = QuantLadder[number];
export type QuantOptions = NonNullable<Recipe["quantOptions"]>;

/** One rung of the ladder: a canonical type and the llama-quantize options it gets. */
export interface QuantJob {
  /** The type, or a mix's label (Q4_K_XL): the rung's name and the file's (`<name>-<type>.gguf`). */
  type: string;
  /** Options before the positional arguments, imatrix excluded (it is added when the imatrix exists). */
  options: string[];
  useImatrix: boolean;
  /** A mix: its target and the llama-quantize file type it is made with; its tensor types once allocated. */
  mix?: { target: MixTarget; ftype: string; tensorTypes?: AllocatedMix };
}

/** What a mix is asked to be: a size in bytes, or bits per weight (the other follows from the model's weights). */
export interface MixTarget {
  bytes: number;
  bpw: number;
  /** For a budget: the budget and the context it is judged at. */
  fit?: { budget: string; ctx: number };
}

/**
 * For a recipe with mixes: the model's weight count (to turn a size into bits per weight), its config.json (a budget's
 * KV cache and buffers) and the mixes allocated so far.
 */
export interface MixContext {
  weights: number;
  config?: Record<string, unknown>;
  /** Memory a budget must also hold beside the file: a vision model's projector. */
  besideBytes?: number;
  tensorTypes?: Record<string, AllocatedMix>;
}

/** A mix's tensor-type file (an artifact of the mix step) and what its allocation predicted. */
export interface AllocatedMix {
  path: string;
  sha256: string;
  predictedBytes: number;
  predictedKld: number;
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
export function quantJobs(recipe: Recipe, chosen: string[] = [], mixes?: MixContext): QuantJob[] {
  const entries: QuantEntry[] = [...listedQuants(recipe)];
  for (const type of chosen) if (!entries.some((e) => (findQuantType(typeof e === "string" ? e : "type" in e ? e.type : "")?.name ?? "") === type)) entries.push(type);
  const spec = quantChoiceSpec(recipe);
  // quants.fit with mix: the mix that fills each budget, unless Q8_0 itself fits there (no mix is better than it).
  const budgetMixes = spec?.mix ? spec.fit.map((fit) => ({ mix: { fit, ...(spec.ctx ? { ctx: spec.ctx } : {}), ...(spec.margin !== undefined ? { margin: spec.margin } : {}), ...(spec.reserve ? { reserve: spec.reserve } : {}) } })) : [];
  entries.push(...budgetMixes.filter((m) => !mixes?.config || mixTarget(m.mix, mixes).bpw < Q8_0_BPW));
  return entries.map((entry: QuantEntry) => {
    if (typeof entry !== "string" && "mix" in entry) return mixJob(recipe, entry, mixes);
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

/** Q8_0's bits per weight (34 bytes a block of 32). */
const Q8_0_BPW = 8.5;
/** quants.fit's defaults: the same rule for a mix's budget as for a chosen type's. */
const FIT_DEFAULTS = { ctx: 4096, margin: 0.1, reserve: "64MB" };

type MixSpec = Extract<QuantEntry, { mix: unknown }>["mix"];

/**
 * A mix's target in bytes and bits per weight. Assumes checkQuantRecipe passed (a size it can read). For a budget: the
 * budget less its margin and reserve (quants.fit's rule) less what llama.cpp allocates beside the weights at ctx (KV
 * cache, output and compute buffers, from config.json as `plan` estimates them), as the file's size — its header
 * counted with the weights, so the file's memory is within the budget.
 */
export function mixTarget(mix: MixSpec, context: MixContext): MixTarget {
  const weights = context.weights;
  if (mix.bpw !== undefined) return { bpw: mix.bpw, bytes: Math.floor((mix.bpw * weights) / 8) };
  const bytes = mix.fit !== undefined ? Math.max(0, fitBytes(mix, context.config) - (context.besideBytes ?? 0)) : typeof mix.size === "number" ? mix.size : (parseFileSize(mix.size ?? "") ?? 0);
  return { bytes, bpw: (bytes * 8) / weights, ...(mix.fit !== undefined ? { fit: { budget: mix.fit, ctx: mix.ctx ?? FIT_DEFAULTS.ctx } } : {}) };
}

function fitBytes(mix: MixSpec, config: Record<string, unknown> | undefined): number {
  const allowed = Math.floor((parseBudget(mix.fit ?? "") ?? 0) * (1 - (mix.margin ?? FIT_DEFAULTS.margin)) - (parseBudget(mix.reserve ?? FIT_DEFAULTS.reserve) ?? 0));
  const shape = config ? configShape({ config, weightsBytes: 0 }) : undefined;
  const beside = shape ? estimateMemory({ shape, ctx: mix.ctx ?? FIT_DEFAULTS.ctx }).totalBytes : 0;
  return Math.max(0, allowed - beside);
}

function mixJob(recipe: Recipe, entry: Extract<QuantEntry, { mix: unknown }>, mixes?: MixContext): QuantJob {
  const target = mixTarget(entry.mix, mixes ?? { weights: 1 });
  const { label, ftype } = mixes ? mixLabel({ bpw: target.bpw }) : { label: "MIX", ftype: "Q4_K_M" };
  const tensorTypes = mixes?.tensorTypes?.[label];
  return {
    type: label,
    options: tensorTypes ? ["--tensor-type-file", tensorTypes.path] : [],
    useImatrix: Boolean(recipe.imatrix) && (entry.imatrix ?? recipe.quantOptions?.imatrix) !== false,
    mix: { target, ftype, ...(tensorTypes ? { tensorTypes } : {}) },
  };
}
