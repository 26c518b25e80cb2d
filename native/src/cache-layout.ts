import { createHash } from "node:crypto";
import { join } from "node:path";
import { cacheRoot, stableKey } from "@gguf-pipeline/core";
import { cpuFingerprint, flagsWithout, type CpuFeature } from "./cpu/cpu-features.js";
import { readPatches, readPin, readRequirements } from "./pin.js";

export interface CacheLayout {
  root: string;
  downloads: string;
  /** The llama.cpp checkout for the pinned commit and patches (shared by every flag set). */
  sourceDir: string;
  /** The CMake build for pin + flags + this CPU (GGML_NATIVE tunes for the host) + what it is made without. */
  buildDir: string;
  buildMarker: string;
  buildKey: string;
  /** The instruction-set extensions this build is made without, and the compiler flags that say so. */
  without: CpuFeature[];
  withoutFlags: string[];
  /** The self-test results of this build, per CPU. */
  selfTestFile: string;
  /** Which build this CPU uses (the extensions its self-tests turned off, and why), for this pin. */
  cpuChoiceFile: string;
  venvDir: string;
  venvMarker: string;
  venvKey: string;
  locks: string;
}

export function cacheLayout(params: { env?: NodeJS.ProcessEnv; without?: readonly CpuFeature[] } = {}): CacheLayout {
  const env = params.env ?? process.env;
  const root = cacheRoot({ env });
  const pin = readPin();
  const patches = readPatches(pin).map((p) => p.text);
  const sourceKey = stableKey({ commit: pin.source.llamaCppCommit, patches }).slice(0, 8);
  const cpu = cpuFingerprint();
  const withoutFlags = flagsWithout(params.without ?? []);
  const without = (params.without ?? []).filter((f, i, all) => all.indexOf(f) === i);
  // A build without nothing keeps the key it always had, so existing caches stay valid.
  const buildKey = stableKey({ source: pin.source, cmake: pin.cmake, patches, cpu, ...(withoutFlags.length > 0 ? { withoutFlags } : {}) }).slice(0, 16);
  // A simulated fault (the self-test's switch) is a CPU of its own: it never changes what a real run on this CPU uses.
  const simulate = env.GGUF_PIPELINE_SIMULATE_SIGILL || undefined;
  const choiceKey = stableKey({ source: pin.source, cmake: pin.cmake, patches, cpu, ...(simulate ? { simulate } : {}) }).slice(0, 16);
  const venvKey = createHash("sha256").update(readRequirements()).update(process.platform + process.arch).digest("hex").slice(0, 16);
  const llama = join(root, "llama.cpp");
  return {
    root,
    downloads: join(root, "downloads"),
    sourceDir: join(llama, `src-${pin.source.llamaCppCommit.slice(0, 12)}-${sourceKey}`),
    buildDir: join(llama, `build-${buildKey}`),
    buildMarker: join(llama, `build-${buildKey}`, "toolchain.json"),
    buildKey,
    without,
    withoutFlags,
    selfTestFile: join(llama, `build-${buildKey}`, "self-test.json"),
    cpuChoiceFile: join(llama, `cpu-${choiceKey}.json`),
    venvDir: join(root, "python", `venv-${venvKey}`),
    venvMarker: join(root, "python", `venv-${venvKey}`, "ready.json"),
    venvKey,
    locks: join(root, "locks"),
  };
}
