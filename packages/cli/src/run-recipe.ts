import { join } from "node:path";
import { acquireLock, cacheRoot, PipelineError, removeOrphanPartials, sha256, writeReport, type Lock, type RunReport, type StageEvent } from "@gguf-pipeline/core";
import { ensureToolchain, listConverterArchitectures, userMemoDir, type Toolchain } from "@gguf-pipeline/native";
import { buildReport } from "./build-report.js";
import { checkPublishAccess } from "./check-publish-access.js";
import { prepareRecipe } from "./prepare-recipe.js";
import type { RunContext, RunStep } from "./steps/run-context.js";
import { stepsFor } from "./steps/run-steps.js";

export interface RunRecipeParams {
  /** The recipe file. */
  file: string;
  /** Output folder (instead of the recipe's output.dir). */
  outDir?: string;
  /** Ignore the cache: redo every step. */
  force?: boolean;
  /** How many quants run at once (default: planned from cores and free memory). */
  jobs?: number;
  /** Validation checks (by name, e.g. "chat template") whose failure is accepted. */
  allow?: string[];
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Called once report.json is written, before a failed quant or check makes the run throw. */
  onReport?: (report: RunReport, path: string) => void;
  /** Skip the recipe's `publish` (`--no-publish`). */
  noPublish?: boolean;
  /** Run one part of the recipe (`--only convert|imatrix|TYPE`), for a ladder fanned out across machines. */
  only?: string;
}

export interface RunRecipeOutput {
  reportPath: string;
  report: RunReport;
}

/** A run that is prepared and holds its output folder: the steps to walk, the context they share. */
export interface OpenedRun {
  ctx: RunContext;
  /** The steps this recipe asks for, in order. */
  steps: RunStep[];
  startedAt: Date;
  /** Writes report.json (then fails if a quant or a check failed). */
  finish(): Promise<RunRecipeOutput>;
  /** Lets the output folder go (always call it). */
  close(): Promise<void>;
}

/**
 * `pipeline run` as a library function: prepares the recipe (bad input fails here, before anything is written), walks
 * the run's steps yielding every stage event, writes report.json and returns it. The CLI renders the same steps' events.
 */
export async function* runRecipe(params: RunRecipeParams): AsyncGenerator<StageEvent, RunRecipeOutput> {
  const run = yield* openRun(params);
  try {
    for (const step of run.steps) yield* runStep(step, run.ctx);
    return await run.finish();
  } finally {
    await run.close();
  }
}

/** Runs one step and records how long it took and whether everything came from the cache. */
export async function* runStep(step: RunStep, ctx: RunContext): AsyncGenerator<StageEvent, void> {
  const started = Date.now();
  const result = yield* step.run(ctx);
  ctx.timings.push({ stage: step.stage, seconds: (Date.now() - started) / 1000, cached: result.cached });
}

/**
 * Prepares the recipe and takes the output folder: two runs writing one folder would race on its files and
 * bookkeeping, so the second waits (and says so). The lock lives in the cache: a run that fails early leaves no trace.
 */
export async function* openRun(params: RunRecipeParams): AsyncGenerator<StageEvent, OpenedRun> {
  const startedAt = new Date();
  const env = params.env ?? process.env;
  const sig = params.signal ? { signal: params.signal } : {};
  // With a user llama.cpp the architectures come from its converter, which needs the toolchain first.
  let userToolchain: Toolchain | undefined;
  const prepared = await prepareRecipe({
    file: params.file,
    ...(params.outDir ? { outDir: params.outDir } : {}),
    env,
    userArchitectures: async (override) => {
      const run = ensureToolchain({ ...sig, env, override });
      for (let next = await run.next(); ; next = await run.next()) {
        if (next.done) {
          userToolchain = next.value;
          break;
        }
      }
      return listConverterArchitectures({ toolchain: userToolchain, memoDir: userMemoDir(env), ...sig });
    },
  });
  // A part of a fanned-out run never publishes: `gather` makes the whole, `publish` sends it.
  const publish = !params.noPublish && params.only === undefined;
  const steps = stepsFor(prepared, { publish, ...(params.only ? { only: params.only } : {}) });
  // Credentials and servers are checked before any work: a bad token fails in a second, not after the ladder.
  const access = publish ? await checkPublishAccess({ prepared, env, ...sig }) : {};
  const lock = yield* takeOutputFolder(prepared.loaded.outDir, env, params.signal);
  // A run killed outright (SIGKILL, power cut) leaves its partial files; the folder's new holder removes them.
  for (const orphan of (await removeOrphanPartials({ outDir: prepared.loaded.outDir })).removed) {
    yield { type: "log", stage: "lock", level: "info", message: `removed ${orphan.path}, left by a run that was killed (pid ${orphan.pid})` };
  }
  const ctx: RunContext = {
    prepared,
    options: { force: params.force ?? false, ...(params.jobs ? { jobs: params.jobs } : {}), allow: params.allow ?? [], env, publish, ...(params.only ? { only: params.only } : {}), ...sig },
    startedAt,
    access,
    ...(userToolchain ? { toolchain: userToolchain } : {}),
    adapters: [],
    artifacts: [],
    timings: [],
    validationFailed: [],
    planLines: [],
    warmUp: () => steps.forEach((step) => step.warmUp?.()),
  };
  let closed = false;
  return {
    ctx,
    steps,
    startedAt,
    finish: () => finishRun({ ctx, startedAt, ...(params.onReport ? { onReport: params.onReport } : {}) }),
    close: async () => {
      if (closed) return;
      closed = true;
      await lock.release();
    },
  };
}

async function* takeOutputFolder(outDir: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): AsyncGenerator<StageEvent, Lock> {
  let holder: string | undefined;
  let told: (() => void) | undefined;
  const waiting = new Promise<"waiting">((resolve) => (told = () => resolve("waiting")));
  const taking = acquireLock({
    path: join(cacheRoot({ env }), "locks", `out-${sha256(outDir).slice(0, 16)}`),
    ...(signal ? { signal } : {}),
    onWait: (who) => {
      holder = who;
      told?.();
    },
  });
  if ((await Promise.race([taking.then(() => "taken" as const), waiting])) === "waiting") {
    yield { type: "log", stage: "lock", level: "info", message: `${outDir} is in use by another run (${holder ?? "another process"}): waiting for it to finish` };
  }
  return taking;
}

/** report.json from what the steps made; then the failed quants and failed checks make the run fail. */
async function finishRun(params: { ctx: RunContext; startedAt: Date; onReport?: (report: RunReport, path: string) => void }): Promise<RunRecipeOutput> {
  const { ctx } = params;
  const report = await buildReport({ ctx, startedAt: params.startedAt });
  const written = await writeReport({ outDir: ctx.prepared.loaded.outDir, report });
  params.onReport?.(report, written.path);
  // The report lists what was made; the failed quants and failed checks still make the run fail.
  if (ctx.ladderError) throw ctx.ladderError;
  if (ctx.validationFailed.length > 0) {
    throw new PipelineError({ message: `validation failed: ${ctx.validationFailed.join("; ")}`, exitCode: 1, file: written.path, hint: "fix the cause, or accept a check by name with --allow (e.g. --allow \"chat template\")" });
  }
  return { reportPath: written.path, report };
}
