import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { acquireLock, linesOf, runTool, ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { goToolLayout, type GoInfo, type GoToolLayout } from "./go-tool-layout.js";
import type { GoToolPrepare, GoToolPrepareContext } from "./go-tool-prepare.js";
import { goTooOld, type GoToolName } from "./go-tools-pin.js";
import { linkLlamaCppHeaders } from "./link-llama-cpp-headers.js";
import { goInstallHint, probeGo } from "./probe-go.js";

export interface EnsureGoToolParams {
  name: GoToolName;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Prepares the build's environment; by default a tool with `llamaCppHeaders` gets the pinned llama.cpp's vendor headers. */
  onPrepare?: GoToolPrepare;
}

/** What a finished build records beside its binary (tool.json, written last). */
export interface GoToolBuild {
  name: GoToolName;
  module: string;
  package: string;
  version: string;
  /** The program's absolute path. */
  bin: string;
  key: string;
  goVersion: string;
  platform: string;
  builtAt: string;
  seconds: number;
}

/**
 * Makes sure a pinned helper binary (native/go-tools.json) is built: `go install` from the Go module proxy into a
 * staging folder, renamed into `<cache>/go/<name>-<version>-<key>` when complete. A finished build is reused by every
 * clone; two processes asking at once build it once (a cross-process lock).
 */
export async function* ensureGoTool(params: EnsureGoToolParams): AsyncGenerator<StageEvent, GoToolBuild> {
  const sig = params.signal ? { signal: params.signal } : {};
  const go = await probeGo(sig);
  const layout = goToolLayout({ name: params.name, go, ...(params.env ? { env: params.env } : {}) });
  const ready = await readGoTool(layout);
  if (ready) return ready;
  if (goTooOld({ have: go.version, need: layout.pin.minGo })) {
    throw new ToolchainError({ message: `${layout.pin.module}@${layout.pin.version} needs Go ${layout.pin.minGo} or newer, but \`go\` is ${go.version}`, hint: goInstallHint });
  }
  const lock = await acquireLock({ path: layout.lock, ...sig });
  try {
    return (await readGoTool(layout)) ?? (yield* build(layout, go, params));
  } finally {
    await lock.release();
  }
}

/** The recorded build, when its binary is still there. */
export async function readGoTool(layout: GoToolLayout): Promise<GoToolBuild | undefined> {
  try {
    const built = JSON.parse(await readFile(layout.marker, "utf8")) as GoToolBuild;
    return built.key === layout.key && existsSync(built.bin) ? built : undefined;
  } catch {
    return undefined;
  }
}

async function* build(layout: GoToolLayout, go: GoInfo, params: EnsureGoToolParams): AsyncGenerator<StageEvent, GoToolBuild> {
  const { name, pin } = layout;
  const stage = `go:${name}`;
  const started = Date.now();
  const staging = `${layout.entryDir}.tmp-${process.pid}`;
  const workDir = join(staging, "work");
  yield { type: "start", stage, title: `Building ${name} ${pin.version} with go install (first run only${pin.cgo ? "; compiles C/C++ via cgo, ~5 min" : ""})` };
  // We hold the lock for this key: any other staging folder for it is left from a build that was killed.
  const prefix = `${basename(layout.entryDir)}.tmp-`;
  for (const entry of await readdir(layout.root).catch(() => [])) if (entry.startsWith(prefix)) await rm(join(layout.root, entry), { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  try {
    const prepare = params.onPrepare ?? (pin.llamaCppHeaders?.length ? linkLlamaCppHeaders : undefined);
    const ctx: GoToolPrepareContext = { name, pin, workDir, ...(params.signal ? { signal: params.signal } : {}), ...(params.env ? { env: params.env } : {}) };
    const extra = prepare ? yield* prepare(ctx) : {};
    yield { type: "progress", stage, message: `go ${layout.installArgs.join(" ")}` };
    const install = runTool({
      tool: `go install ${name}`,
      command: "go",
      args: layout.installArgs,
      cwd: workDir,
      env: { ...layout.buildEnv, ...extra, GOBIN: join(staging, "bin") },
      tailLines: 40,
      hint: pin.cgo ? "cgo needs a C/C++ compiler (Debian: apt-get install build-essential); the lines above say what failed" : "the lines above say what failed",
      ...(params.signal ? { signal: params.signal } : {}),
    });
    // `-v` names each package as it is compiled, `go: downloading` each module: the only progress Go gives.
    for await (const line of linesOf(install)) yield { type: "progress", stage, message: line.length > 120 ? `${line.slice(0, 117)}…` : line };
    if (!existsSync(join(staging, "bin", pin.bin))) {
      throw new ToolchainError({ file: join(staging, "bin"), message: `go install ${pin.package}@${pin.version} did not produce ${pin.bin}`, hint: `check "package" and "bin" in native/go-tools.json` });
    }
    await rm(workDir, { recursive: true, force: true });
    // A folder without tool.json is an interrupted earlier attempt: replace it.
    await rm(layout.entryDir, { recursive: true, force: true });
    await rename(staging, layout.entryDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  const result: GoToolBuild = {
    name,
    module: pin.module,
    package: pin.package,
    version: pin.version,
    bin: layout.binPath,
    key: layout.key,
    goVersion: go.version,
    platform: `${go.goos}-${go.goarch}`,
    builtAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(`${layout.marker}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  await rename(`${layout.marker}.tmp`, layout.marker);
  yield { type: "done", stage, title: `${name} ${pin.version} built in ${result.seconds} s`, seconds: result.seconds, cached: false };
  return result;
}
