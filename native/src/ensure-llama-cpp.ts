import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { acquireLock, linesOf, runTool, runToolToEnd, ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { cacheLayout, type CacheLayout } from "./cache-layout.js";
import { readPatches, readPin } from "./pin.js";
import { llamaTools } from "./tools.js";

export interface EnsureLlamaCppParams {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** What a finished build records beside its binaries. */
export interface LlamaCppBuild {
  commit: string;
  tag: string;
  npmPackage: string;
  sourceDir: string;
  binDir: string;
  buildKey: string;
  flags: string[];
  patches: string[];
  builtAt: string;
  seconds: number;
}

const stage = "llama.cpp";
const compileHint = "llama.cpp needs a C/C++ compiler, cmake and (ideally) ninja: on Debian, apt-get install build-essential cmake ninja-build";

/**
 * Makes sure the pinned llama.cpp is built: fetch the node-llama-cpp package from the npm registry,
 * clone the llama.cpp git bundle it carries, check the commit, and build the tools with CMake.
 * An existing build for the same pin, flags and CPU is reused without touching anything.
 */
export async function* ensureLlamaCpp(params: EnsureLlamaCppParams = {}): AsyncGenerator<StageEvent, LlamaCppBuild> {
  const layout = cacheLayout(params.env ? { env: params.env } : {});
  const ready = await readBuild(layout);
  if (ready) return ready;

  const lock = await acquireLock({
    path: join(layout.locks, `build-${layout.buildKey}`),
    ...(params.signal ? { signal: params.signal } : {}),
  });
  try {
    const again = await readBuild(layout);
    if (again) return again;
    return yield* build(layout, params.signal);
  } finally {
    await lock.release();
  }
}

async function readBuild(layout: CacheLayout): Promise<LlamaCppBuild | undefined> {
  try {
    const build = JSON.parse(await readFile(layout.buildMarker, "utf8")) as LlamaCppBuild;
    const missing = Object.values(llamaTools).filter((tool) => !existsSync(join(build.binDir, tool)));
    return missing.length === 0 ? build : undefined;
  } catch {
    return undefined;
  }
}

async function* build(layout: CacheLayout, signal: AbortSignal | undefined): AsyncGenerator<StageEvent, LlamaCppBuild> {
  const pin = readPin();
  const started = Date.now();
  const sig = signal ? { signal } : {};
  yield { type: "start", stage, title: `Building llama.cpp ${pin.source.llamaCppCommit.slice(0, 8)} (first run only, ~5 min)` };

  if (!existsSync(join(layout.sourceDir, "CMakeLists.txt"))) {
    await mkdir(layout.downloads, { recursive: true });
    const spec = `${pin.source.npmPackage}@${pin.source.version}`;
    const tarball = join(layout.downloads, `${pin.source.npmPackage}-${pin.source.version}.tgz`);
    if (!existsSync(tarball)) {
      yield { type: "progress", stage, message: `npm pack ${spec}` };
      // npm checks the tarball against the registry's integrity hash. It lands in a private folder and is renamed
      // when complete, so an interrupted download is never taken for the real thing.
      const packDir = join(layout.downloads, `pack-${process.pid}`);
      await rm(packDir, { recursive: true, force: true });
      await mkdir(packDir, { recursive: true });
      yield* lines(runTool({ tool: "npm pack", command: "npm", args: ["pack", spec, "--pack-destination", packDir, "--silent"], ...sig }));
      await rename(join(packDir, `${pin.source.npmPackage}-${pin.source.version}.tgz`), tarball);
      await rm(packDir, { recursive: true, force: true });
    }
    const unpack = join(layout.downloads, `unpack-${process.pid}`);
    await rm(unpack, { recursive: true, force: true });
    await mkdir(unpack, { recursive: true });
    yield { type: "progress", stage, message: `extracting ${pin.source.bundle}` };
    yield* lines(runTool({ tool: "tar", command: "tar", args: ["-xzf", tarball, "-C", unpack, `package/${pin.source.bundle}`], ...sig }));
    const bundle = join(unpack, "package", pin.source.bundle);
    const cloneTmp = `${layout.sourceDir}.tmp-${process.pid}`;
    await rm(cloneTmp, { recursive: true, force: true });
    yield { type: "progress", stage, message: "cloning the llama.cpp bundle" };
    yield* lines(runTool({ tool: "git clone", command: "git", args: ["clone", "--quiet", bundle, cloneTmp], ...sig }));
    const head = (await runToolToEnd({ tool: "git rev-parse", command: "git", args: ["-C", cloneTmp, "rev-parse", "HEAD"], ...sig })).lines.join("").trim();
    if (head !== pin.source.llamaCppCommit) {
      throw new ToolchainError({
        file: join("native", "pin.json"),
        message: `${spec} carries llama.cpp ${head}, but the pin says ${pin.source.llamaCppCommit}`,
        hint: "update source.llamaCppCommit in native/pin.json together with the version",
      });
    }
    for (const patch of readPatches(pin)) {
      yield { type: "progress", stage, message: `applying ${patch.path.split("/").pop()}` };
      yield* lines(runTool({ tool: "git apply", command: "git", args: ["-C", cloneTmp, "apply", "--whitespace=nowarn", patch.path], ...sig, hint: "the patch no longer applies to this llama.cpp: update or drop it in native/pin.json" }));
    }
    await rm(unpack, { recursive: true, force: true });
    await rm(layout.sourceDir, { recursive: true, force: true });
    await rename(cloneTmp, layout.sourceDir);
  }

  const hasNinja = await which("ninja");
  yield { type: "progress", stage, message: "cmake configure" };
  yield* lines(
    runTool({
      tool: "cmake",
      command: "cmake",
      args: [
        "-S",
        layout.sourceDir,
        "-B",
        layout.buildDir,
        ...(hasNinja ? ["-G", "Ninja"] : []),
        `-DCMAKE_BUILD_TYPE=${pin.cmake.buildType}`,
        ...pin.cmake.flags,
      ],
      ...sig,
      hint: compileHint,
    }),
  );
  const jobs = String(availableParallelism());
  for await (const line of linesOf(
    runTool({ tool: "cmake --build", command: "cmake", args: ["--build", layout.buildDir, "--target", ...pin.cmake.targets, "-j", jobs], ...sig, hint: compileHint }),
  )) {
    // Ninja prints "[12/345] Building CXX object ...", make prints "[ 40%] Building ...".
    const ninja = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line);
    const make = /^\[\s*(\d+)%\]\s*(.*)$/.exec(line);
    if (ninja) yield { type: "progress", stage, message: `[${ninja[1]}/${ninja[2]}] ${shorten(ninja[3] ?? "")}`, ratio: Number(ninja[1]) / Number(ninja[2]) };
    else if (make) yield { type: "progress", stage, message: `[${make[1]}%] ${shorten(make[2] ?? "")}`, ratio: Number(make[1]) / 100 };
  }
  const binDir = join(layout.buildDir, "bin");
  const present = new Set(await readdir(binDir).catch(() => []));
  const missing = Object.values(llamaTools).filter((tool) => !present.has(tool));
  if (missing.length > 0) {
    throw new ToolchainError({ message: `the llama.cpp build did not produce ${missing.join(", ")}`, hint: "check native/pin.json targets and flags", file: binDir });
  }
  const result: LlamaCppBuild = {
    commit: pin.source.llamaCppCommit,
    tag: pin.source.llamaCppTag,
    npmPackage: `${pin.source.npmPackage}@${pin.source.version}`,
    sourceDir: layout.sourceDir,
    binDir,
    buildKey: layout.buildKey,
    flags: [`-DCMAKE_BUILD_TYPE=${pin.cmake.buildType}`, ...pin.cmake.flags],
    patches: pin.patches ?? [],
    builtAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(`${layout.buildMarker}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  await rename(`${layout.buildMarker}.tmp`, layout.buildMarker);
  yield { type: "done", stage, title: `llama.cpp built in ${result.seconds} s`, seconds: result.seconds, cached: false };
  return result;
}

async function* lines(gen: AsyncGenerator<string, unknown>): AsyncGenerator<StageEvent> {
  for await (const line of linesOf(gen)) yield { type: "progress", stage, message: shorten(line) };
}

async function which(command: string): Promise<boolean> {
  const path = process.env.PATH ?? "";
  return path.split(":").some((dir) => dir && existsSync(join(dir, command)));
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
