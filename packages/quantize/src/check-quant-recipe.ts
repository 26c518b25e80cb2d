import { stat } from "node:fs/promises";
import { parseBudget, resolveFrom, suggest, type LoadedRecipe, type RecipeProblem } from "@gguf-pipeline/core";
import { defaultCalibrationText, defaultEvaluationText } from "./calibration.js";
import { parseFileSize, parseSplitSize } from "./parse-size.js";
import { listedQuants, quantChoiceSpec, type QuantChoiceSpec, type QuantOptions } from "./quant-jobs.js";
import { findGgmlTypeName, ggmlTypeNames } from "./ggml-type-names.js";
import { findQuantType, quantAliases, quantTypes } from "./quant-types.js";

/**
 * The quant keys' rules beyond the schema, checked before any work: known types (with a suggestion), no duplicates,
 * an imatrix for the types that need one, readable non-empty text files, a split size llama-gguf-split can read,
 * and an explicit allowRequantize when the intermediate is itself quantized.
 */
export async function checkQuantRecipe(loaded: LoadedRecipe): Promise<RecipeProblem[]> {
  const { recipe } = loaded;
  const problems: RecipeProblem[] = [];
  const names = [...quantTypes.map((t) => t.name), ...Object.keys(quantAliases)];
  const seen = new Map<string, number>();
  const base = Array.isArray(recipe.quants) ? ["quants"] : ["quants", "also"];
  for (const [i, entry] of listedQuants(recipe).entries()) {
    if (typeof entry !== "string" && "mix" in entry) {
      problems.push(...checkMix(loaded, entry.mix, [...base, i, "mix"]));
      continue;
    }
    const raw = typeof entry === "string" ? entry : entry.type;
    const path = typeof entry === "string" ? [...base, i] : [...base, i, "type"];
    const type = findQuantType(raw);
    if (!type) {
      const guess = suggest(raw, names);
      problems.push({ path, message: `unknown quant type "${raw}"`, hint: guess ? `did you mean "${guess}"?` : `llama-quantize types: ${quantTypes.map((t) => t.name).join(", ")}` });
      continue;
    }
    const first = seen.get(type.name);
    if (first !== undefined) problems.push({ path, message: `quant type ${type.name} is listed twice (also at quants[${first}])`, hint: "list each type once" });
    seen.set(type.name, i);
    const optedOut = ((typeof entry === "string" ? undefined : entry.imatrix) ?? recipe.quantOptions?.imatrix) === false;
    if (type.needsImatrix && (!recipe.imatrix || optedOut)) {
      problems.push({
        path,
        message: `${type.name} needs an importance matrix and this recipe has none for it`,
        hint: 'add "imatrix": {} (uses the shipped calibration text) or "imatrix": { "calibration": "your.txt" }, or choose a type like Q2_K or IQ4_XS',
      });
    }
    const requantize = (typeof entry === "string" ? undefined : entry.allowRequantize) ?? recipe.quantOptions?.allowRequantize;
    if (loaded.outtype === "q8_0" && !requantize) {
      problems.push({ path, message: `quantizing from a q8_0 intermediate re-quantizes already quantized weights`, hint: 'convert to f16/bf16/f32 instead, or set "allowRequantize": true to accept the quality loss' });
    }
  }
  problems.push(...checkTensorTypes(recipe, base));
  const choice = quantChoiceSpec(recipe);
  if (choice) problems.push(...checkChoice(choice, names));
  if (choice?.mix && loaded.outtype === "q8_0") problems.push({ path: ["quants", "mix"], message: "a mix is made from a high-precision intermediate, and this recipe converts to q8_0", hint: "convert to f16, bf16 or f32" });
  for (const [key, file] of [
    ["imatrix", recipe.imatrix?.calibration],
    ["evaluate", recipe.evaluate?.text],
  ] as const) {
    if (!recipe[key]) continue;
    const path = file ? [key, key === "imatrix" ? "calibration" : "text"] : [key];
    const resolved = file ? resolveFrom(loaded.dir, file) : key === "imatrix" ? defaultCalibrationText : defaultEvaluationText;
    const info = await stat(resolved).catch(() => undefined);
    if (!info?.isFile()) problems.push({ path, message: `text file ${resolved} does not exist`, hint: "point it at a UTF-8 text file, or leave it out to use the shipped text" });
    else if (info.size === 0) problems.push({ path, message: `text file ${resolved} is empty`, hint: "use a text with at least a few thousand words" });
  }
  if (recipe.split && parseSplitSize(recipe.split.maxSize) === undefined) {
    problems.push({ path: ["split", "maxSize"], message: `split size "${recipe.split.maxSize}" cannot be read`, hint: 'write a whole number with M or G, e.g. "48G" or "500M"' });
  }
  if ((recipe.imatrix || recipe.evaluate || recipe.split || recipe.quantOptions) && !recipe.quants) {
    const key = recipe.imatrix ? "imatrix" : recipe.evaluate ? "evaluate" : recipe.split ? "split" : "quantOptions";
    problems.push({ path: [key], message: `"${key}" has no effect without "quants"`, hint: 'add "quants": ["Q4_K_M", ...] or remove it' });
  }
  return problems;
}

/**
 * The tensor types of quantOptions and of each quant's own options, which llama-quantize would otherwise refuse only
 * when its rung runs (after the conversion), once per rung.
 */
function checkTensorTypes(recipe: LoadedRecipe["recipe"], base: string[]): RecipeProblem[] {
  const problems: RecipeProblem[] = [];
  const check = (path: (string | number)[], type: string) => {
    if (findGgmlTypeName(type)) return;
    const guess = suggest(type, ggmlTypeNames);
    problems.push({ path, message: `unknown tensor type "${type}"`, hint: guess ? `did you mean "${guess}"?` : `llama-quantize's tensor types: ${ggmlTypeNames.join(", ")}` });
  };
  const sets: [(string | number)[], QuantOptions | undefined][] = [[["quantOptions"], recipe.quantOptions], ...listedQuants(recipe).map((entry, i): [(string | number)[], QuantOptions | undefined] => [[...base, i], typeof entry === "string" ? undefined : entry])];
  for (const [at, options] of sets) {
    if (options?.outputTensorType) check([...at, "outputTensorType"], options.outputTensorType);
    if (options?.tokenEmbeddingType) check([...at, "tokenEmbeddingType"], options.tokenEmbeddingType);
    // The schema has checked the PATTERN=TYPE shape.
    (options?.tensorTypes ?? []).forEach((spec, i) => check([...at, "tensorTypes", i], spec.slice(spec.lastIndexOf("=") + 1)));
  }
  return problems;
}

/** A budget choice's own rules: budgets that read as sizes, candidates llama-quantize knows that need no imatrix. */
function checkChoice(choice: QuantChoiceSpec, names: string[]): RecipeProblem[] {
  const problems: RecipeProblem[] = [];
  choice.fit.forEach((budget, i) => {
    if (parseBudget(budget) === undefined) problems.push({ path: ["quants", "fit", i], message: `memory budget "${budget}" cannot be read`, hint: 'write a size with its unit, e.g. "8GB" or "512MB"' });
  });
  if (choice.reserve !== undefined && parseBudget(choice.reserve) === undefined) problems.push({ path: ["quants", "reserve"], message: `memory size "${choice.reserve}" cannot be read`, hint: 'write a size with its unit, e.g. "64MB"' });
  (choice.candidates ?? []).forEach((raw, i) => {
    const type = findQuantType(raw);
    if (!type) {
      const guess = suggest(raw, names);
      problems.push({ path: ["quants", "candidates", i], message: `unknown quant type "${raw}"`, hint: guess ? `did you mean "${guess}"?` : "use llama-quantize's type names" });
    } else if (type.needsImatrix) problems.push({ path: ["quants", "candidates", i], message: `${type.name} needs an importance matrix: it cannot be a candidate`, hint: "choose among types that need none, e.g. Q4_K_M, IQ4_XS, Q2_K" });
  });
  return problems;
}

function checkMix(loaded: LoadedRecipe, mix: { size?: number | string; bpw?: number; fit?: string; ctx?: number; margin?: number; reserve?: string }, path: (string | number)[]): RecipeProblem[] {
  const asked = (["size", "bpw", "fit"] as const).filter((k) => mix[k] !== undefined);
  if (asked.length !== 1) return [{ path, message: asked.length ? `a mix asks for ${asked.join(" and ")}: one of them` : "a mix needs a size, bpw or fit", hint: 'write { "mix": { "size": "4.5GB" } }, { "mix": { "bpw": 4.8 } } or { "mix": { "fit": "8GB", "ctx": 8192 } }' }];
  const withFit = (["ctx", "margin", "reserve"] as const).filter((k) => mix[k] !== undefined);
  if (mix.fit === undefined && withFit.length) return [{ path: [...path, withFit[0] ?? "ctx"], message: `${withFit.join(", ")} only go with a mix's fit (a memory budget)`, hint: 'write { "mix": { "fit": "8GB", "ctx": 8192 } }, or leave it out' }];
  for (const [key, value] of [["fit", mix.fit], ["reserve", mix.reserve]] as const) {
    if (value !== undefined && parseBudget(value) === undefined) return [{ path: [...path, key], message: `memory "${value}" cannot be read`, hint: 'write a number with a unit, e.g. "8GB" or "512MB"' }];
  }
  if (typeof mix.size === "string" && parseFileSize(mix.size) === undefined) {
    return [{ path: [...path, "size"], message: `mix size "${mix.size}" cannot be read`, hint: 'write bytes, or a number with KB, MB or GB (decimal) or KiB, MiB or GiB, e.g. "4.5GB"' }];
  }
  if (loaded.outtype === "q8_0") return [{ path, message: "a mix is made from a high-precision intermediate, and this recipe converts to q8_0", hint: "convert to f16, bf16 or f32" }];
  return [];
}
