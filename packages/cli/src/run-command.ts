import type { RunReport } from "@gguf-pipeline/core";
import { drain } from "./drain.js";
import { renderSteps, type OutputMode } from "./render-events.js";
import { openRun, runStep, type RunRecipeOutput } from "./run-recipe.js";
import type { RunContext } from "./steps/run-context.js";

export interface RunCommandParams {
  file: string;
  outDir?: string;
  force?: boolean;
  /** How many quants run at once (default: planned from cores and free memory). */
  jobs?: number;
  /** Validation checks (by name, e.g. "chat template") whose failure is accepted. */
  allow?: string[];
  mode: OutputMode;
  /** Called once report.json is written, before a failed quant or check makes the run throw. */
  onReport?: (report: RunReport, path: string) => void;
  /** Skip the recipe's `publish`. */
  noPublish?: boolean;
  /** One part of a fanned-out run: convert, imatrix or a quant type. */
  only?: string;
  /** Where lines about the run itself go (waiting for the output folder): stderr by default. */
  note?: (line: string) => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export type RunCommandOutput = RunRecipeOutput;

/** `pipeline run RECIPE`: the run's steps (the same ones `runRecipe` walks) as a task list, then report.json. */
export async function runCommand(params: RunCommandParams): Promise<RunCommandOutput> {
  const { mode, note = (line: string) => process.stderr.write(`${line}\n`), ...rest } = params;
  const run = await drain(openRun(rest), (event) => {
    if (event.type === "log") note(`${event.level === "warn" ? "warning" : "note"}: ${event.message}`);
  });
  try {
    await renderSteps<RunContext>({
      mode,
      ctx: run.ctx,
      steps: run.steps.map((step) => ({ title: step.title(run.ctx), stage: step.stage, run: (ctx, emit) => drain(runStep(step, ctx), emit) })),
    });
    return await run.finish();
  } finally {
    await run.close();
  }
}
