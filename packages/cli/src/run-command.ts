import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { acquireLock, cacheRoot, sha256, writeReport, type Artifact, type RunReport, type StageTiming } from "@gguf-pipeline/core";
import { convertModel, type ConvertOutput } from "@gguf-pipeline/convert";
import { describeToolchain, ensureToolchain, listConverterArchitectures, type Toolchain } from "@gguf-pipeline/native";
import { drain } from "./drain.js";
import { prepareRecipe, type PreparedRecipe } from "./prepare-recipe.js";
import { renderSteps, type OutputMode, type Step } from "./render-events.js";

export interface RunCommandParams {
  file: string;
  outDir?: string;
  force?: boolean;
  mode: OutputMode;
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
  const ctx: RunContext = { prepared, timings: [], artifacts: [], ...(userToolchain ? { toolchain: userToolchain } : {}) };

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
        c.convert = await drain(
          convertModel({ source: c.prepared.source, outDir: loaded.outDir, name: loaded.name, outtype: loaded.outtype, toolchain, force: params.force ?? false, ...sig }),
          emit,
        );
        c.timings.push({ stage: "convert", seconds: c.convert.seconds, cached: c.convert.cached });
        c.artifacts.push(c.convert.artifact);
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
    artifacts: ctx.artifacts,
  };
  const written = await writeReport({ outDir: loaded.outDir, report });
  return { reportPath: written.path, report };
}

export async function pipelineVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}
