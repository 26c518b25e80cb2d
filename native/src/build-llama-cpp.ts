import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { acquireLock, linesOf, runTool, runToolToEnd, ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import type { CacheLayout } from "./cache-layout.js";
import { readPatches, readPin } from "./pin.js";
import { llamaTools } from "./tools.js";

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
  /** The instruction-set extensions it is made without (its self-test crashed with them, or `setup --without`). */
  without?: string[];
  builtAt: string;
  seconds: number;
}

const stage = "llama.cpp";
const compileHint = "llama.cpp needs a C/C++ compiler, cmake and (ideally) ninja: on Debian, apt-get install build-essential cmake ninja-build";

/** The build a layout names, when it is complete (its marker written and every tool there). */
export async function readBuild(layout: CacheLayout): Promise<LlamaCppBuild | undefined> {
  try {
    const build = JSON.parse(await readFile(layout.buildMarker, "utf8")) as LlamaCppBuild;
    const missing = Object.values(llamaTools).filter((tool) => !existsSync(join(build.binDir, tool)));
    return missing.length === 0 ? build : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the pinned llama.cpp into the layout's folder: fetch the node-llama-cpp package from the npm registry, clone
 * the llama.cpp git bundle it carries, check the commit, patch, and build the tools with CMake (with the layout's
 * `-mno-…` flags when it is made without some extensions). The caller holds the build's lock.
 */
export async function* buildLlamaCpp(params: { layout: CacheLayout; signal?: AbortSignal }): AsyncGenerator<StageEvent, LlamaCppBuild> {
  const { layout, signal } = params;
  const pin = readPin();
  const started = Date.now();
  const sig = signal ? { signal } : {};
  const without = layout.without.length > 0 ? ` without ${layout.without.join(", ")}` : "";
  yield { type: "start", stage, title: `Building llama.cpp ${pin.source.llamaCppCommit.slice(0, 8)}${without} (first run only, ~5 min)` };
  yield* fetchSource(layout, sig);
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
        ...extraFlags(layout),
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
    flags: [`-DCMAKE_BUILD_TYPE=${pin.cmake.buildType}`, ...pin.cmake.flags, ...extraFlags(layout)],
    patches: pin.patches ?? [],
    ...(layout.without.length > 0 ? { without: layout.without } : {}),
    builtAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(`${layout.buildMarker}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  await rename(`${layout.buildMarker}.tmp`, layout.buildMarker);
  yield { type: "done", stage, title: `llama.cpp built in ${result.seconds} s`, seconds: result.seconds, cached: false };
  return result;
}

/** The llama.cpp checkout for the pin (shared by every build of it): cloned from the bundle once and patched. */
async function* fetchSource(layout: CacheLayout, sig: { signal?: AbortSignal }): AsyncGenerator<StageEvent> {
  if (existsSync(join(layout.sourceDir, "CMakeLists.txt"))) return;
  // Builds of one pin made without different extensions share the checkout: one of them makes it.
  const lock = await acquireLock({ path: join(layout.locks, `source-${basename(layout.sourceDir)}`), ...sig });
  try {
    if (!existsSync(join(layout.sourceDir, "CMakeLists.txt"))) yield* cloneSource(layout, sig);
  } finally {
    await lock.release();
  }
}

async function* cloneSource(layout: CacheLayout, sig: { signal?: AbortSignal }): AsyncGenerator<StageEvent> {
  const pin = readPin();
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

async function* lines(gen: AsyncGenerator<string, unknown>): AsyncGenerator<StageEvent> {
  for await (const line of linesOf(gen)) yield { type: "progress", stage, message: shorten(line) };
}

/** A build without some extensions: the native flags plus `-mno-…`, which win over `-march=native` in any order. */
function extraFlags(layout: CacheLayout): string[] {
  if (layout.withoutFlags.length === 0) return [];
  const flags = layout.withoutFlags.join(" ");
  return [`-DCMAKE_C_FLAGS=${flags}`, `-DCMAKE_CXX_FLAGS=${flags}`];
}

async function which(command: string): Promise<boolean> {
  const path = process.env.PATH ?? "";
  return path.split(":").some((dir) => dir && existsSync(join(dir, command)));
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
