import { suggest } from "@gguf-pipeline/core";
import { quantChoiceSpec, quantJobs } from "@gguf-pipeline/quantize";
import { UsageError } from "../errors.js";
import type { PreparedRecipe } from "../prepare-recipe.js";
import { adaptersStep } from "./adapters-step.js";
import { chooseStep } from "./choose-step.js";
import { convertStep } from "./convert-step.js";
import { evaluateStep } from "./evaluate-step.js";
import { imatrixStep } from "./imatrix-step.js";
import { licenseStep } from "./license-step.js";
import { mergeStep } from "./merge-step.js";
import { mixStep } from "./mix-step.js";
import { mmprojStep } from "./mmproj-step.js";
import { publishHubStep } from "./publish-hub-step.js";
import { publishOllamaStep } from "./publish-ollama-step.js";
import { quantizeStep } from "./quantize-step.js";
import type { RunStep } from "./run-context.js";
import { toolchainStep } from "./toolchain-step.js";
import { validateStep } from "./validate-step.js";
import { mixContext } from "./mix-context.js";

/** The run, in order. `runRecipe`, the CLI's task list and `plan` all walk this one list. */
export const runSteps: readonly RunStep[] = [toolchainStep, convertStep, mmprojStep, adaptersStep, mergeStep, imatrixStep, chooseStep, mixStep, quantizeStep, evaluateStep, licenseStep, validateStep, publishHubStep, publishOllamaStep];

/** A part of a run that can go to a machine of its own: what it needs first, in the order they run. */
export interface RunPart {
  part: string;
  needs: string[];
}

/**
 * The parts a recipe fans out into (`plan --matrix`): the intermediate, the importance matrix, then each quant; quants
 * chosen by budget are one part (the candidates are measured side by side), the types it also lists one each.
 */
export function runParts(prepared: PreparedRecipe): RunPart[] {
  const { recipe } = prepared.loaded;
  const jobs = quantJobs(recipe, [], mixContext(prepared));
  const choice = quantChoiceSpec(recipe);
  const imatrix = jobs.some((j) => j.useImatrix) || Boolean(choice && recipe.imatrix);
  return [
    { part: "convert", needs: [] },
    ...(imatrix ? [{ part: "imatrix", needs: ["convert"] }] : []),
    ...(choice ? [{ part: "choose", needs: ["convert", ...(imatrix ? ["imatrix"] : [])] }] : []),
    ...jobs.map((j) => ({ part: j.type, needs: ["convert", ...(j.useImatrix ? ["imatrix"] : [])] })),
  ];
}

/** The steps a run walks: all those the recipe asks for, or (with `only`) just those one part needs. */
export function stepsFor(prepared: PreparedRecipe, options: { publish: boolean; only?: string }): RunStep[] {
  const steps = runSteps.filter((s) => s.applies(prepared, options));
  if (options.only === undefined) return steps;
  const part = runParts(prepared).find((p) => p.part.toLowerCase() === options.only?.toLowerCase());
  if (!part) {
    const names = runParts(prepared).map((p) => p.part);
    const guess = suggest(options.only, names);
    throw new UsageError(`--only ${options.only} is not a part of this recipe (${names.join(", ")})`, guess ? `did you mean --only ${guess}?` : "pick one of them");
  }
  const wanted = new Set([["convert", "imatrix", "choose"].includes(part.part) ? part.part : "quantize", ...part.needs]);
  return steps.filter((s) => wanted.has(s.part));
}
