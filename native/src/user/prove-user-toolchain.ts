import { ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { blameFeature } from "../cpu/blame-feature.js";
import { cpuFingerprint, switchableFeatures } from "../cpu/cpu-features.js";
import { SELF_TEST_VERSION, selfTestToolchain, type SelfTestResult } from "../self-test/self-test-toolchain.js";
import type { Toolchain } from "../tools.js";
import { identityMemo } from "./remember-by-identity.js";
import type { CpuFeature } from "../cpu/cpu-features.js";

export interface ProveUserToolchainParams {
  toolchain: Toolchain;
  /** Where the answers are kept, per the tools' identities and the CPU. */
  memoDir: string;
  simulate?: CpuFeature;
  signal?: AbortSignal;
}

/**
 * A user's own llama.cpp goes through the managed build's self-test once per build and CPU (remembered under its
 * binaries' identities). It cannot be rebuilt for them: a crash or a wrong result is one line that says what to build
 * differently, or to use the managed build instead.
 */
export async function* proveUserToolchain(params: ProveUserToolchainParams): AsyncGenerator<StageEvent, SelfTestResult> {
  const { toolchain } = params;
  const memo = await identityMemo<SelfTestResult>({ dir: params.memoDir, name: "self-test", files: Object.values(toolchain.tools), extra: { cpu: cpuFingerprint(), simulate: params.simulate ?? null, version: SELF_TEST_VERSION } });
  const saved = await memo.recall();
  if (saved?.value.passed) return saved.value;
  yield { type: "start", stage: "self-test", title: `Self-test of your llama.cpp (${toolchain.binDir}) on this CPU` };
  const dir = `${memo.file.replace(/\.json$/, "")}-work`;
  const result = yield* selfTestToolchain({ tools: toolchain.tools, dir, ...(params.simulate ? { simulate: params.simulate } : {}), ...(params.signal ? { signal: params.signal } : {}) });
  if (result.passed) {
    await memo.remember(result);
    yield { type: "done", stage: "self-test", title: `Self-test passed: ${result.checks.length} checks against F32 in ${result.seconds.toFixed(1)} s`, seconds: result.seconds, cached: false };
    return result;
  }
  const unset = "or unset GGUF_PIPELINE_LLAMA_CPP and GGUF_PIPELINE_LLAMA_CPP_BIN (and the recipe's toolchain) to use the managed build";
  if (result.crash?.signal === "SIGILL") {
    const blamed = await blameFeature({ crash: result.crash, features: result.features, exclude: [], cwd: dir, ...(params.signal ? { signal: params.signal } : {}) });
    const flags = blamed ? switchableFeatures[blamed.feature].flags.join(" ") : "";
    throw new ToolchainError({
      file: toolchain.binDir,
      message: `your llama.cpp's ${result.crash.tool} was killed by SIGILL in the self-test on this CPU${blamed ? ` (${blamed.evidence})` : ""}`,
      hint: blamed ? `rebuild it without ${switchableFeatures[blamed.feature].label} (cmake -DCMAKE_C_FLAGS="${flags}" -DCMAKE_CXX_FLAGS="${flags}"), ${unset}` : `rebuild it for this CPU, ${unset}`,
    });
  }
  throw new ToolchainError({ file: toolchain.binDir, message: `your llama.cpp failed the self-test on this CPU: ${result.failure ?? "unknown"}`, hint: `check the build (its flags, its commit), ${unset}` });
}

