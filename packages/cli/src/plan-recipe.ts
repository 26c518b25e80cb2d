import { cacheRoot, freeSpace } from "@gguf-pipeline/core";
import { describeToolchain } from "@gguf-pipeline/native";
import { prepareRecipe } from "./prepare-recipe.js";
import type { PlanContext, PlannedStep } from "./steps/run-context.js";
import { runSteps } from "./steps/run-steps.js";

export interface PlanRecipeParams {
  file: string;
  outDir?: string;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface DiskNeed {
  dir: string;
  needBytes: number;
  freeBytes: number;
}

export interface PlanRecipeOutput {
  steps: PlannedStep[];
  /** The output folder's file system: what the stages write. */
  output: DiskNeed;
  /** The cache's file system: the llama.cpp build and the Python env, first run only. */
  cache: DiskNeed;
  enoughSpace: boolean;
}

/**
 * What a run would do, step by step (the same step list the run walks): what is cached, and the disk space needed
 * against what is free. Nothing is built or written.
 */
export async function planRecipe(params: PlanRecipeParams): Promise<PlanRecipeOutput> {
  const prepared = await prepareRecipe(params);
  const toolchain = await describeToolchain({ ...(params.env ? { env: params.env } : {}), override: prepared.override });
  const ctx: PlanContext = { prepared, force: params.force ?? false, toolchain, artifacts: [], known: true };
  const steps: PlannedStep[] = [];
  for (const step of runSteps) if (step.applies(prepared, { publish: true })) steps.push(...(await step.plan(ctx)));
  const sum = (which: (s: PlannedStep) => boolean) => steps.filter(which).reduce((total, s) => total + s.bytes, 0);
  const output = { dir: prepared.loaded.outDir, needBytes: sum((s) => s.stage !== "toolchain"), freeBytes: await freeSpace(prepared.loaded.outDir) };
  const cache = { dir: toolchain.cacheRoot, needBytes: sum((s) => s.stage === "toolchain"), freeBytes: await freeSpace(cacheRoot(params.env ? { env: params.env } : {})) };
  return { steps, output, cache, enoughSpace: output.freeBytes >= output.needBytes && cache.freeBytes >= cache.needBytes };
}
