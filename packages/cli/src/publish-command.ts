import { formatHubPlan } from "@gguf-pipeline/publish";
import { drain } from "./drain.js";
import { openPublish, type PublishRecipeOutput } from "./publish-recipe.js";
import { renderSteps, type OutputMode } from "./render-events.js";
import { runStep } from "./run-recipe.js";
import type { RunContext } from "./steps/run-context.js";

export interface PublishCommandParams {
  file: string;
  outDir?: string;
  dryRun?: boolean;
  mode: OutputMode;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface PublishCommandOutput extends PublishRecipeOutput {
  /** What happened (or would happen, on a dry run), to print. */
  lines: string[];
}

/** `pipeline publish RECIPE`: the publish steps of a finished run as a task list, then what each target did. */
export async function publishCommand(params: PublishCommandParams): Promise<PublishCommandOutput> {
  const opened = await openPublish(params);
  await renderSteps<RunContext>({ mode: params.mode, ctx: opened.ctx, steps: opened.steps.map((step) => ({ title: step.title(opened.ctx), stage: step.stage, run: (ctx, emit) => drain(runStep(step, ctx), emit) })) });
  const out = await opened.finish();
  return { ...out, lines: [...(out.published.hf ? formatHubPlan(out.published.hf) : []), ...opened.ctx.planLines] };
}
