import { join } from "node:path";
import { acquireLock, ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { buildLlamaCpp, readBuild, type LlamaCppBuild } from "./build-llama-cpp.js";
import { cacheLayout, type CacheLayout } from "./cache-layout.js";
import { readCpuChoice, readSelfTest, writeCpuChoice, writeSelfTest, type CpuChoice, type TurnedOff } from "./cpu/cpu-choice.js";
import { isCpuFeature, switchableFeatures, type CpuFeature } from "./cpu/cpu-features.js";
import { blameFeature } from "./cpu/blame-feature.js";
import { selfTestToolchain, type SelfTestResult } from "./self-test/self-test-toolchain.js";
import { llamaTools, type LlamaToolName } from "./tools.js";

export type { LlamaCppBuild } from "./build-llama-cpp.js";

export interface EnsureLlamaCppParams {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** `pipeline setup --without amx`: from now on, this CPU uses a build made without these extensions. */
  without?: CpuFeature[];
}

/** A build proven on this CPU: what it is, what its self-test measured, and what was turned off to get there. */
export interface ProvenLlamaCppBuild extends LlamaCppBuild {
  selfTest: SelfTestResult;
  turnedOff: TurnedOff[];
}

const stage = "llama.cpp";
/** The self-test's switch: the tools fault on this extension until a build is made without it (any CPU). */
export const simulateSigillEnv = "GGUF_PIPELINE_SIMULATE_SIGILL";

/**
 * Makes sure the pinned llama.cpp is built and proven on this CPU: build it (once per pin, flags and CPU), run the
 * self-test on it (once per CPU), and when a tool dies of SIGILL there, build it again without the extension that
 * faulted (found with gdb, or the most specific one the build uses) and test again. Only a build that passes is used;
 * which one this CPU uses, and why, is kept beside the builds. An unchanged cache returns at once.
 */
export async function* ensureLlamaCpp(params: EnsureLlamaCppParams = {}): AsyncGenerator<StageEvent, ProvenLlamaCppBuild> {
  const env = params.env ?? process.env;
  const simulate = simulatedFeature(env);
  const base = cacheLayout({ env });
  const choice = await readCpuChoice(base.cpuChoiceFile);
  const asked = (params.without ?? []).filter((f) => !choice.turnedOff.some((t) => t.feature === f));
  for (const feature of asked) choice.turnedOff.push({ feature, why: `asked for: pipeline setup --without ${feature}`, at: new Date().toISOString() });
  for (;;) {
    const layout = cacheLayout({ env, without: choice.turnedOff.map((t) => t.feature) });
    const build = (await readBuild(layout)) ?? (yield* underLock(layout, `build-${layout.buildKey}`, params.signal, async function* () {
      return (await readBuild(layout)) ?? (yield* buildLlamaCpp({ layout, ...(params.signal ? { signal: params.signal } : {}) }));
    }));
    const proven = await readSelfTest(layout.selfTestFile, simulate);
    const selfTest = proven?.passed ? proven : yield* underLock(layout, `self-test-${layout.buildKey}`, params.signal, () => runSelfTest(layout, build, simulate, params.signal));
    if (selfTest.passed) {
      if (asked.length > 0 || choice.buildKey !== layout.buildKey) await writeCpuChoice(base.cpuChoiceFile, { ...choice, buildKey: layout.buildKey });
      return { ...build, selfTest, turnedOff: choice.turnedOff };
    }
    const off = yield* nextFeatureToTurnOff(selfTest, choice, layout, params.signal);
    choice.turnedOff.push(off);
    await writeCpuChoice(base.cpuChoiceFile, choice);
    yield { type: "log", stage, level: "warn", message: `${off.why}: building llama.cpp again without ${switchableFeatures[off.feature].label}` };
  }
}

async function* runSelfTest(layout: CacheLayout, build: LlamaCppBuild, simulate: CpuFeature | undefined, signal: AbortSignal | undefined): AsyncGenerator<StageEvent, SelfTestResult> {
  const again = await readSelfTest(layout.selfTestFile, simulate);
  if (again?.passed) return again;
  yield { type: "start", stage: "self-test", title: `Self-test of llama.cpp ${build.commit.slice(0, 8)}${layout.without.length ? ` without ${layout.without.join(", ")}` : ""} on this CPU` };
  const tools = Object.fromEntries(Object.entries(llamaTools).map(([name, bin]) => [name, join(build.binDir, bin)])) as Record<LlamaToolName, string>;
  const result = yield* selfTestToolchain({ tools, dir: join(layout.buildDir, "self-test"), without: layout.without, ...(simulate ? { simulate } : {}), ...(signal ? { signal } : {}) });
  await writeSelfTest(layout.selfTestFile, simulate, result);
  const title = result.passed ? `Self-test passed: ${result.checks.length} checks against F32 in ${result.seconds.toFixed(1)} s` : `Self-test FAILED: ${result.failure ?? "unknown"}`;
  yield { type: "done", stage: "self-test", title, seconds: result.seconds, cached: false };
  return result;
}

/** After a failed self-test: the extension to build without next, or the one line that says nothing is left to try. */
async function* nextFeatureToTurnOff(result: SelfTestResult, choice: CpuChoice, layout: CacheLayout, signal: AbortSignal | undefined): AsyncGenerator<StageEvent, TurnedOff> {
  const crash = result.crash;
  const hint = "run `pipeline doctor` for the self-test's figures, and report it with them";
  if (!crash || crash.signal !== "SIGILL") {
    throw new ToolchainError({ file: layout.buildDir, message: `llama.cpp failed its self-test on this CPU: ${result.failure ?? "unknown"}`, hint });
  }
  if (!crash.simulated) yield { type: "progress", stage: "self-test", message: `${crash.tool} was killed by SIGILL: looking for the instruction it stopped on (gdb)` };
  const blamed = await blameFeature({ crash, features: result.features, exclude: choice.turnedOff.map((t) => t.feature), cwd: join(layout.buildDir, "self-test"), ...(signal ? { signal } : {}) });
  if (!blamed) {
    const tried = choice.turnedOff.map((t) => switchableFeatures[t.feature].label).join(", ");
    throw new ToolchainError({ file: layout.buildDir, message: `llama.cpp crashes on this CPU (${crash.tool} killed by SIGILL in its self-test)${tried ? ` even built without ${tried}` : ""}, and no other extension is left to build without`, hint });
  }
  return { feature: blamed.feature, why: `${crash.tool} was killed by SIGILL in the self-test (${blamed.evidence})`, at: new Date().toISOString() };
}

async function* underLock<T>(layout: CacheLayout, name: string, signal: AbortSignal | undefined, body: () => AsyncGenerator<StageEvent, T>): AsyncGenerator<StageEvent, T> {
  const lock = await acquireLock({ path: join(layout.locks, name), ...(signal ? { signal } : {}) });
  try {
    return yield* body();
  } finally {
    await lock.release();
  }
}

/** The switch's value, checked: a misspelt extension is an error, not a test that proves nothing. */
export function simulatedFeature(env: NodeJS.ProcessEnv): CpuFeature | undefined {
  const value = env[simulateSigillEnv];
  if (!value) return undefined;
  if (isCpuFeature(value)) return value;
  throw new ToolchainError({ message: `${simulateSigillEnv}=${value} names no instruction-set extension`, hint: `use one of ${Object.keys(switchableFeatures).join(", ")}, or unset it` });
}
