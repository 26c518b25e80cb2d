import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { acquireLock, cacheRoot, checkGguf, PipelineError, readGguf, sha256, shipLicenseFiles, smokeTest, writeReport, type Artifact, type Recipe, type RunReport, type StageTiming } from "@gguf-pipeline/core";
import { convertModel, type ConvertOutput } from "@gguf-pipeline/convert";
import { convertAdapter, mergeAdapters } from "@gguf-pipeline/merge";
import { describeToolchain, ensureToolchain, listConverterArchitectures, listLlamaArchitectures, type Toolchain } from "@gguf-pipeline/native";
import {
  calibrationText,
  computeImatrix,
  evaluateQuality,
  evaluationText,
  LadderError,
  parseSplitSize,
  quantJobs,
  runLadder,
  type ImatrixOutput,
  type LadderOutput,
} from "@gguf-pipeline/quantize";
import { drain } from "./drain.js";
import { prepareRecipe, type PreparedRecipe } from "./prepare-recipe.js";
import { renderSteps, type OutputMode, type Step } from "./render-events.js";

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
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface RunCommandOutput {
  reportPath: string;
  report: RunReport;
}

interface RunContext {
  prepared: PreparedRecipe;
  toolchain?: Toolchain;
  convert?: ConvertOutput;
  adapters: { artifact: Artifact; name: string; scale: number; rank: number; alpha: number }[];
  /** What the quants are made from: the converted model, or the merged one. */
  intermediate?: Artifact;
  imatrix?: ImatrixOutput;
  ladder?: LadderOutput;
  ladderError?: LadderError;
  validation?: NonNullable<RunReport["validation"]>;
  timings: StageTiming[];
  artifacts: Artifact[];
}

/**
 * `pipeline run RECIPE`: validate, make sure the toolchain is there (building it on first use),
 * convert, and write report.json. Bad input fails before anything is written.
 */
export async function runCommand(params: RunCommandParams): Promise<RunCommandOutput> {
  const startedAt = new Date();
  const signal = params.signal;
  const sig = signal ? { signal } : {};
  const env = params.env ?? process.env;
  // With a user llama.cpp the architectures come from its converter, which needs the toolchain first.
  let userToolchain: Toolchain | undefined;
  const prepared = await prepareRecipe({
    file: params.file,
    ...(params.outDir ? { outDir: params.outDir } : {}),
    env,
    userArchitectures: async (override) => {
      userToolchain = await drain(ensureToolchain({ ...sig, env, override }), () => undefined);
      return listConverterArchitectures({ toolchain: userToolchain, ...sig });
    },
  });
  const { loaded } = prepared;
  const jobs = quantJobs(loaded.recipe);
  const force = params.force ?? false;
  const ctx: RunContext = { prepared, timings: [], artifacts: [], adapters: [], ...(userToolchain ? { toolchain: userToolchain } : {}) };

  const steps: Step<RunContext>[] = [
    {
      title: "Toolchain: llama.cpp and the converters' Python env",
      skip: (c) => Boolean(c.toolchain),
      run: async (c, emit) => {
        const started = Date.now();
        let built = false;
        c.toolchain = await drain(ensureToolchain({ ...sig, env, override: c.prepared.override }), (event) => {
          if (event.type === "start") built = true;
          emit(event);
        });
        const seconds = (Date.now() - started) / 1000;
        c.timings.push({ stage: "toolchain", seconds, cached: !built });
        emit({ type: "done", stage: "toolchain", title: `Toolchain: llama.cpp ${c.toolchain.commit.slice(0, 8)} (${c.toolchain.source})${built ? "" : ", cached"}`, seconds, cached: !built });
      },
    },
    {
      title: `Convert ${loaded.name} → GGUF (${loaded.outtype})`,
      run: async (c, emit) => {
        const toolchain = c.toolchain;
        if (!toolchain) throw new Error("toolchain step did not run");
        // A model that gets adapters merged is converted as `<name>-base`; the merged model takes `<name>`.
        const name = prepared.merge ? `${loaded.name}-base` : loaded.name;
        c.convert = await drain(convertModel({ source: c.prepared.source, outDir: loaded.outDir, name, outtype: loaded.outtype, metadata: prepared.metadata, toolchain, force, ...sig }), emit);
        c.timings.push({ stage: "convert", seconds: c.convert.seconds, cached: c.convert.cached });
        c.artifacts.push(c.convert.artifact);
        c.intermediate = c.convert.artifact;
      },
    },
    {
      title: `Adapters → GGUF adapters (${prepared.adapters.map((a) => a.name).join(", ")})`,
      stage: "adapters",
      skip: () => prepared.adapters.length === 0,
      run: async (c, emit) => {
        const { toolchain } = need(c);
        const started = Date.now();
        let cached = true;
        for (const adapter of prepared.adapters) {
          const out = await drain(
            convertAdapter({ adapter: adapter.info, adapterName: adapter.name, source: prepared.source, outDir: loaded.outDir, name: loaded.name, outtype: loaded.outtype, toolchain, force, ...sig }),
            emit,
          );
          cached &&= out.cached;
          c.adapters.push({ artifact: out.artifact, name: adapter.name, scale: adapter.scale, rank: adapter.info.rank, alpha: adapter.info.alpha });
          c.artifacts.push(out.artifact);
        }
        const seconds = (Date.now() - started) / 1000;
        c.timings.push({ stage: "adapters", seconds, cached });
        emit({ type: "done", stage: "adapters", title: `${prepared.adapters.length} GGUF adapter(s)${cached ? " — cached" : ""}`, seconds, cached });
      },
    },
    {
      title: "Merge adapters",
      skip: () => !prepared.merge,
      run: async (c, emit) => {
        const { toolchain, convert } = need(c);
        const out = await drain(mergeAdapters({ base: convert.artifact, adapters: c.adapters, source: prepared.source, ...(loaded.recipe.metadata?.baseModels ? { baseModels: loaded.recipe.metadata.baseModels } : {}), outDir: loaded.outDir, name: loaded.name, toolchain, force, ...sig }), emit);
        c.timings.push({ stage: "merge", seconds: out.seconds, cached: out.cached });
        c.artifacts.push(out.artifact);
        c.intermediate = out.artifact;
      },
    },
    {
      title: "Importance matrix",
      skip: () => !jobs.some((j) => j.useImatrix),
      run: async (c, emit) => {
        const { toolchain, intermediate } = need(c);
        const im: Partial<NonNullable<Recipe["imatrix"]>> = loaded.recipe.imatrix ?? {};
        c.imatrix = await drain(
          computeImatrix({ input: intermediate, outDir: loaded.outDir, name: loaded.name, text: calibrationText(loaded), ctx: im.ctx ?? 512, ...(im.chunks ? { chunks: im.chunks } : {}), toolchain, force, ...sig }),
          emit,
        );
        c.timings.push({ stage: "imatrix", seconds: c.imatrix.seconds, cached: c.imatrix.cached });
        c.artifacts.push(c.imatrix.artifact);
      },
    },
    {
      title: `Quantize ${jobs.map((j) => j.type).join(", ")}`,
      stage: "quantize",
      skip: () => jobs.length === 0,
      run: async (c, emit) => {
        const { toolchain, intermediate } = need(c);
        const started = Date.now();
        const splitSpec = loaded.recipe.split?.maxSize;
        const splitBytes = splitSpec ? parseSplitSize(splitSpec) : undefined;
        const done: string[] = [];
        try {
          c.ladder = await drain(
            runLadder({
              jobs,
              input: intermediate,
              ...(c.imatrix ? { imatrix: c.imatrix.artifact } : {}),
              outDir: loaded.outDir,
              name: loaded.name,
              ...(splitSpec && splitBytes ? { split: { spec: splitSpec, bytes: splitBytes } } : {}),
              toolchain,
              force,
              ...(params.jobs ? { concurrency: params.jobs } : {}),
              ...sig,
            }),
            (event) => {
              emit(event);
              if (event.type === "done" && event.stage !== "quantize") {
                done.push(event.title);
                // The ladder's title counts the finished quants.
                emit({ type: "start", stage: "quantize", title: `Quantize: ${done.length}/${jobs.length} done` });
              }
              if (event.type === "artifact") c.artifacts.push(event.artifact);
            },
          );
        } catch (error) {
          if (!(error instanceof LadderError)) throw error;
          c.ladderError = error;
          emit({ type: "log", stage: "quantize", level: "warn", message: error.message });
        }
        const seconds = (Date.now() - started) / 1000;
        const cached = Boolean(c.ladder?.results.every((r) => r.cached));
        c.timings.push({ stage: "quantize", seconds, cached });
        emit({ type: "done", stage: "quantize", title: `Quantize: ${done.length}/${jobs.length} done${c.ladderError ? `, ${c.ladderError.failures.length} FAILED` : ""}${cached ? " — cached" : ""}`, seconds, cached });
      },
    },
    {
      title: "Quality",
      // After a failed rung, the rungs that finished are still measured.
      skip: (c) => !loaded.recipe.evaluate || jobs.length === 0 || (!c.ladder && !c.ladderError),
      run: async (c, emit) => {
        const { toolchain, intermediate } = need(c);
        const ev: Partial<NonNullable<Recipe["evaluate"]>> = loaded.recipe.evaluate ?? {};
        // A split quant is measured through its first shard (llama.cpp loads the rest).
        const quants = c.artifacts.filter((a) => a.stage === "quantize" && (!a.quant?.shard || a.quant.shard.index === 1));
        const started = Date.now();
        let cached = false;
        const out = await drain(
          evaluateQuality({ reference: intermediate, quants, outDir: loaded.outDir, text: evaluationText(loaded), ctx: ev.ctx ?? 512, ...(ev.chunks ? { chunks: ev.chunks } : {}), toolchain, force, ...sig }),
          (event) => {
            if (event.type === "done") cached = event.cached;
            emit(event);
          },
        );
        c.artifacts = c.artifacts.map((a) => (out.quality[a.path] ? { ...a, quality: out.quality[a.path] } : a));
        c.timings.push({ stage: "evaluate", seconds: (Date.now() - started) / 1000, cached });
      },
    },
    {
      title: `License: ${prepared.license.license}`,
      stage: "license",
      run: async (c, emit) => {
        const started = Date.now();
        for (const message of prepared.license.warnings) emit({ type: "log", stage: "license", level: "warn", message });
        const out = await drain(shipLicenseFiles({ verdict: prepared.license, outDir: loaded.outDir, force, ...sig }), emit);
        c.artifacts.push(...out.artifacts);
        const seconds = (Date.now() - started) / 1000;
        c.timings.push({ stage: "license", seconds, cached: out.cached });
        const files = out.artifacts.map((a) => a.path);
        emit({ type: "done", stage: "license", title: `License: ${prepared.license.license} (from ${prepared.license.from})${files.length ? `; ships ${files.join(", ")}` : ""}`, seconds, cached: out.cached });
      },
    },
    {
      title: "Validate every GGUF",
      stage: "validate",
      run: async (c, emit) => {
        const { toolchain, intermediate } = need(c);
        const started = Date.now();
        const architectures = await listLlamaArchitectures({ llamaCppDir: toolchain.llamaCppDir });
        const hasTemplate = prepared.source.files.includes("chat_template.jinja") || prepared.source.files.includes("chat_template.json") || (await hasTokenizerTemplate(prepared.source.dir));
        const reference = await readGguf({ file: join(loaded.outDir, intermediate.path) }).catch(() => undefined);
        const tensorShapes = reference ? Object.fromEntries(reference.tensors.map((t) => [t.name, t.shape])) : undefined;
        const files: NonNullable<RunReport["validation"]>["files"] = {};
        // A shard set is checked as one model, named by its first shard (checkGguf reads them all).
        const models = [...new Map(c.artifacts.map((a) => [a.path, a])).values()].filter((a) => a.path.endsWith(".gguf") && (!a.quant?.shard || a.quant.shard.index === 1));
        // The smoke test loads and runs models: by default the reference and the smallest quant, so a ladder stays cheap.
        const smoke = loaded.recipe.validate?.smoke ?? "smallest";
        const modelFiles = models.filter((a) => ["convert", "merge", "quantize"].includes(a.stage) && !(prepared.merge && a.stage === "convert"));
        const smallest = [...modelFiles].filter((a) => a.stage === "quantize").sort((a, b) => a.bytes - b.bytes)[0];
        const smokeSet = new Set(smoke === "all" ? modelFiles.map((a) => a.path) : smoke === "none" ? [] : [intermediate.path, ...(smallest ? [smallest.path] : [])]);
        for (const artifact of models) {
          // Models (converted, merged, quants) keep every tensor of the intermediate and the source's chat template;
          // adapters and importance matrices get the structural checks only.
          const isModel = ["convert", "merge", "quantize"].includes(artifact.stage);
          const tensors = isModel && reference ? { tensorCount: reference.tensorCount, ...(tensorShapes ? { tensorShapes } : {}) } : {};
          const result = await checkGguf({
            file: join(loaded.outDir, artifact.path),
            ...(architectures ? { architectures } : {}),
            ...(isModel ? { expect: { ...tensors, chatTemplate: hasTemplate, license: { id: prepared.license.license, ...(prepared.license.link ? { link: prepared.license.link } : {}) } } } : {}),
          });
          if (smokeSet.has(artifact.path)) {
            emit({ type: "progress", stage: "validate", message: `${artifact.path}: smoke test` });
            const ran = await smokeTest({ file: join(loaded.outDir, artifact.path), completionTool: toolchain.tools.completion, prompt: loaded.recipe.validate?.prompt ?? "Hello! Who are you?", tokens: loaded.recipe.validate?.tokens ?? 16, ...sig });
            result.checks.push({ name: "smoke test", ok: ran.ok, fact: ran.fact });
          }
          const ok = result.checks.every((x) => x.ok);
          files[artifact.path] = { ok, checks: result.checks };
          const failed = result.checks.filter((x) => !x.ok);
          if (failed.length > 0) emit({ type: "log", stage: "validate", level: "warn", message: `${artifact.path}: ${failed.map((x) => `${x.name}: ${x.fact}`).join("; ")}` });
          else emit({ type: "progress", stage: "validate", message: `${artifact.path}: ${result.checks.length} checks pass` });
        }
        c.validation = { allowed: params.allow ?? [], files };
        const seconds = (Date.now() - started) / 1000;
        const failing = Object.values(files).flatMap((f) => f.checks.filter((x) => !x.ok && !(params.allow ?? []).includes(x.name)));
        c.timings.push({ stage: "validate", seconds, cached: false });
        emit({ type: "done", stage: "validate", title: `Validate: ${Object.keys(files).length} file(s), ${failing.length ? `${failing.length} FAILED check(s)` : "all checks pass"}`, seconds, cached: false });
      },
    },
  ];

  // Two runs writing one output folder would race on its files and bookkeeping: the second waits. The lock lives in
  // the cache, so a run that fails early leaves no trace in the output folder.
  const lock = await acquireLock({ path: join(cacheRoot({ env }), "locks", `out-${sha256(loaded.outDir).slice(0, 16)}`), ...sig });
  try {
    await renderSteps({ steps, ctx, mode: params.mode });
  } finally {
    await lock.release();
  }

  const toolchain = ctx.toolchain;
  if (!toolchain) throw new Error("toolchain missing after run");
  const described = await describeToolchain({ env, override: prepared.override });
  const report: RunReport = {
    schemaVersion: 1,
    recipe: { path: loaded.file, sha256: loaded.sha256 },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    tools: {
      llamaCppCommit: toolchain.commit,
      llamaCppSource: toolchain.source === "managed" ? `${described.llamaCpp.npmPackage} (${toolchain.llamaCppDir})` : toolchain.llamaCppDir,
      python: described.python.version ?? "unknown",
      packages: described.python.packages ?? {},
      pipeline: await pipelineVersion(),
    },
    stages: ctx.timings,
    // A rung that is the intermediate itself is listed once.
    artifacts: [...new Map(ctx.artifacts.map((a) => [a.path, a])).values()],
    license: {
      id: prepared.license.license,
      ...(prepared.license.name ? { name: prepared.license.name } : {}),
      ...(prepared.license.link ? { link: prepared.license.link } : {}),
      // Relative to the recipe's folder, so a published report.json names no local folders.
      from: prepared.license.from,
      files: ctx.artifacts.filter((a) => a.stage === "license").map((a) => a.path),
      warnings: prepared.license.warnings,
    },
    ...(ctx.validation ? { validation: ctx.validation } : {}),
  };
  // An earlier recipe's outputs stay where they are, but they are named, so nobody takes them for this run's.
  const made = new Set([...report.artifacts.map((a) => a.path), "report.json"]);
  const otherFiles = (await readdir(loaded.outDir).catch(() => [])).filter((f) => !f.startsWith(".") && !made.has(f)).sort();
  if (otherFiles.length > 0) report.otherFiles = otherFiles;
  const written = await writeReport({ outDir: loaded.outDir, report });
  params.onReport?.(report, written.path);
  // The report lists what was made; the failed quants and failed checks still make the run fail.
  if (ctx.ladderError) throw ctx.ladderError;
  const failed = Object.entries(ctx.validation?.files ?? {}).flatMap(([path, f]) => f.checks.filter((x) => !x.ok && !(params.allow ?? []).includes(x.name)).map((x) => `${path}: ${x.name}: ${x.fact}`));
  if (failed.length > 0) {
    throw new PipelineError({ message: `validation failed: ${failed.join("; ")}`, exitCode: 1, file: written.path, hint: "fix the cause, or accept a check by name with --allow (e.g. --allow \"chat template\")" });
  }
  return { reportPath: written.path, report };
}

function need(c: RunContext): { toolchain: Toolchain; convert: ConvertOutput; intermediate: Artifact } {
  if (!c.toolchain || !c.convert || !c.intermediate) throw new Error("an earlier step did not run");
  return { toolchain: c.toolchain, convert: c.convert, intermediate: c.intermediate };
}

export async function pipelineVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

async function hasTokenizerTemplate(dir: string): Promise<boolean> {
  const config = await readFile(join(dir, "tokenizer_config.json"), "utf8").then((t) => JSON.parse(t) as { chat_template?: unknown }, () => undefined);
  return Boolean(config?.chat_template);
}
