import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { acquireLock, linesOf, runTool, runToolToEnd, ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { cacheLayout, type CacheLayout } from "./cache-layout.js";
import { nativeDir, pinnedPackages } from "./pin.js";

export interface EnsurePythonEnvParams {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** The interpreter that creates the venv; `python3` on PATH by default. */
  basePython?: string;
}

export interface PythonEnv {
  python: string;
  venvDir: string;
  version: string;
  packages: Record<string, string>;
}

const stage = "python";

/**
 * Makes sure the project's Python venv exists with native/requirements.txt installed (torch, transformers, ...).
 * Created once per requirements file and reused; PyPI's torch wheel is several GB, so this is a first-run cost only.
 */
export async function* ensurePythonEnv(params: EnsurePythonEnvParams = {}): AsyncGenerator<StageEvent, PythonEnv> {
  const layout = cacheLayout(params.env ? { env: params.env } : {});
  const ready = await readEnv(layout);
  if (ready) return ready;
  const lock = await acquireLock({ path: join(layout.locks, `venv-${layout.venvKey}`), ...(params.signal ? { signal: params.signal } : {}) });
  try {
    return (await readEnv(layout)) ?? (yield* create(layout, params));
  } finally {
    await lock.release();
  }
}

async function readEnv(layout: CacheLayout): Promise<PythonEnv | undefined> {
  try {
    const env = JSON.parse(await readFile(layout.venvMarker, "utf8")) as PythonEnv;
    return existsSync(env.python) ? env : undefined;
  } catch {
    return undefined;
  }
}

async function* create(layout: CacheLayout, params: EnsurePythonEnvParams): AsyncGenerator<StageEvent, PythonEnv> {
  const sig = params.signal ? { signal: params.signal } : {};
  const started = Date.now();
  yield { type: "start", stage, title: "Creating the Python env for llama.cpp's converters (first run only; torch is several GB)" };
  // A venv is not relocatable (its scripts carry absolute paths), so it is made in place; ready.json, written last,
  // is what marks it complete, and a half-made one from an interrupted run is removed first.
  await rm(layout.venvDir, { recursive: true, force: true });
  await mkdir(join(layout.venvDir, ".."), { recursive: true });
  const basePython = params.basePython ?? "python3";
  try {
    await runToolToEnd({ tool: "python3 -m venv", command: basePython, args: ["-m", "venv", layout.venvDir], ...sig });
  } catch (error) {
    throw new ToolchainError({
      message: `could not create a virtual environment with ${basePython}`,
      hint: "install Python 3.10+ with the venv module (Debian: apt-get install python3-venv)",
      cause: error,
    });
  }
  const python = join(layout.venvDir, "bin", "python");
  const requirements = join(nativeDir, "requirements.txt");
  for await (const line of linesOf(
    runTool({
      tool: "pip install",
      command: python,
      args: ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-r", requirements],
      ...sig,
    }),
  )) {
    if (/^(Collecting|Downloading|Installing|Successfully|Using cached)/.test(line.trim())) yield { type: "progress", stage, message: line.trim().slice(0, 120) };
  }
  const version = (await runToolToEnd({ tool: "python", command: python, args: ["-c", "import sys; print(sys.version.split()[0])"], ...sig })).lines.join("").trim();
  const env: PythonEnv = { python, venvDir: layout.venvDir, version, packages: pinnedPackages() };
  await writeFile(layout.venvMarker, `${JSON.stringify(env, null, 2)}\n`);
  const seconds = Math.round((Date.now() - started) / 1000);
  yield { type: "done", stage, title: `Python env ready in ${seconds} s`, seconds, cached: false };
  return env;
}
