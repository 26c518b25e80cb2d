import { join, resolve } from "node:path";
import { findCachedArtifact, InputError, PipelineError, writeReport, type PublishedSection, type RunReport, type StageEvent } from "@gguf-pipeline/core";
import { ensureToolchain } from "@gguf-pipeline/native";
import { recipeRunKey } from "./build-report.js";
import { checkPublishAccess } from "./check-publish-access.js";
import { prepareRecipe } from "./prepare-recipe.js";
import { reportCommand } from "./report-command.js";
import { runStep } from "./run-recipe.js";
import type { RunContext, RunStep } from "./steps/run-context.js";
import { runSteps } from "./steps/run-steps.js";

export interface PublishRecipeParams {
  file: string;
  outDir?: string;
  /** Plan only: print what would be uploaded, make no write request. */
  dryRun?: boolean;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface PublishRecipeOutput {
  published: PublishedSection;
  /** report.json with what was published (not rewritten on a dry run). */
  report: RunReport;
  reportPath: string;
}

/** A finished run, ready to publish: its report checked and the publish steps to walk. */
export interface OpenedPublish {
  ctx: RunContext;
  steps: RunStep[];
  finish(): Promise<PublishRecipeOutput>;
}

/**
 * `pipeline publish` as a library function: publishes a finished run (its report.json and files, as they were made and
 * validated) without redoing it, through the same publish steps `pipeline run` ends with.
 */
export async function* publishRecipe(params: PublishRecipeParams): AsyncGenerator<StageEvent, PublishRecipeOutput> {
  const opened = await openPublish(params);
  for (const step of opened.steps) yield* runStep(step, opened.ctx);
  return opened.finish();
}

export async function openPublish(params: PublishRecipeParams): Promise<OpenedPublish> {
  const env = params.env ?? process.env;
  const sig = params.signal ? { signal: params.signal } : {};
  const prepared = await prepareRecipe({ file: params.file, ...(params.outDir ? { outDir: params.outDir } : {}), env });
  const { loaded } = prepared;
  if (!loaded.recipe.publish?.hf && !loaded.recipe.publish?.ollama) {
    throw new InputError({ file: params.file, message: "the recipe has no publish section", hint: 'add "publish": { "hf": { "repo": "you/name" } } or "publish": { "ollama": { "name": "name" } }' });
  }
  const report = await reportCommand({ outDir: loaded.outDir }).catch((error: unknown) => {
    // A report that lists a file outside its folder says so itself; a missing one means no run finished here.
    if (error instanceof InputError && error.message !== "no readable report.json here") throw error;
    throw new InputError({ file: loaded.outDir, message: "no finished run here (no report.json)", hint: `run \`pipeline run ${params.file}\` first` });
  });
  // A folder may hold another recipe's finished run (b.json's, beside a.json's): publish only what this recipe made.
  const made = report.recipe?.runKey;
  const sameRecipe = made ? made === recipeRunKey(loaded.recipe) : report.recipe?.sha256 === loaded.sha256 || (report.recipe?.path !== undefined && resolve(report.recipe.path) === resolve(loaded.file));
  if (!sameRecipe) {
    throw new InputError({ file: join(loaded.outDir, "report.json"), message: `was made by another recipe (${report.recipe?.path ?? "unknown"}), not ${loaded.file}`, hint: `publish it with the recipe that made it, or run \`pipeline run ${params.file}\` first` });
  }
  const failed = Object.entries(report.validation?.files ?? {}).flatMap(([path, f]) => f.checks.filter((c) => !c.ok && !(report.validation?.allowed ?? []).includes(c.name)).map((c) => `${path}: ${c.name}`));
  if (!report.validation || failed.length > 0) {
    throw new PipelineError({ message: report.validation ? `the run did not pass validation (${failed.join("; ")}): nothing is published` : "the run was not validated: nothing is published", exitCode: 1, file: `${loaded.outDir}/report.json`, hint: "fix the cause and run again, or accept a check by name with `pipeline run --allow`" });
  }
  // The files must still be the ones the run made and validated.
  for (const artifact of report.artifacts) {
    if (!(await findCachedArtifact({ outDir: loaded.outDir, cacheKey: artifact.cacheKey, path: artifact.path }))) {
      throw new InputError({ file: `${loaded.outDir}/${artifact.path}`, message: "changed or missing since the run that made it", hint: `run \`pipeline run ${params.file}\` again` });
    }
  }
  const access = await checkPublishAccess({ prepared, env, ...sig });
  const toolchain = await finalValue(ensureToolchain({ ...sig, env, override: prepared.override }));
  const ctx: RunContext = {
    prepared,
    options: { force: false, allow: report.validation.allowed, env, publish: true, ...(params.dryRun ? { dryRun: true } : {}), ...sig },
    startedAt: new Date(),
    finished: report,
    access,
    toolchain,
    adapters: [],
    artifacts: report.artifacts,
    timings: [],
    validationFailed: [],
    planLines: [],
  };
  return {
    ctx,
    steps: runSteps.filter((s) => s.stage.startsWith("publish-") && s.applies(prepared, { publish: true })),
    finish: async () => {
      const published = ctx.published ?? {};
      const updated: RunReport = { ...report, published: { ...report.published, ...published } };
      if (params.dryRun) return { published, report, reportPath: `${loaded.outDir}/report.json` };
      const written = await writeReport({ outDir: loaded.outDir, report: updated });
      return { published, report: updated, reportPath: written.path };
    },
  };
}

async function finalValue<T>(gen: AsyncGenerator<unknown, T>): Promise<T> {
  for (;;) {
    const next = await gen.next();
    if (next.done) return next.value;
  }
}
