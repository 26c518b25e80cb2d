import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { cacheLayout } from "./cache-layout.js";
import type { CpuFeature } from "./cpu/cpu-features.js";
import { ensureLlamaCpp, simulatedFeature } from "./ensure-llama-cpp.js";
import { ensurePythonEnv } from "./ensure-python-env.js";
import { llamaScripts, llamaTools, optionalLlamaTools, type LlamaScriptName, type LlamaToolName, type Toolchain } from "./tools.js";
import { proveUserToolchain } from "./user/prove-user-toolchain.js";
import { userCommit } from "./user/user-commit.js";

/** A llama.cpp the user brings instead of the managed build. */
export interface ToolchainOverride {
  /** A llama.cpp source tree (for the converters and gguf-py). */
  llamaCpp?: string;
  /** Where its binaries are; `<llamaCpp>/build/bin` by default. */
  binDir?: string;
  /** A Python that has the converters' packages; the managed venv by default. */
  python?: string;
}

export interface EnsureToolchainParams {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** From the recipe's `toolchain`; the environment variables win over it. */
  override?: ToolchainOverride;
  /** `pipeline setup --without amx`: the managed build, made without these extensions from now on (on this CPU). */
  without?: CpuFeature[];
}

/** Environment variables a user sets to bring their own llama.cpp or Python. */
export const toolchainEnv = {
  llamaCpp: "GGUF_PIPELINE_LLAMA_CPP",
  binDir: "GGUF_PIPELINE_LLAMA_CPP_BIN",
  python: "GGUF_PIPELINE_PYTHON",
} as const;

export function toolchainOverride(params: { env?: NodeJS.ProcessEnv; recipe?: ToolchainOverride } = {}): ToolchainOverride {
  const env = params.env ?? process.env;
  const pick = (key: keyof ToolchainOverride) => env[toolchainEnv[key]] || params.recipe?.[key];
  const out: ToolchainOverride = {};
  for (const key of ["llamaCpp", "binDir", "python"] as const) {
    const value = pick(key);
    if (value) out[key] = resolve(value);
  }
  return out;
}

/**
 * Returns a ready toolchain, building the pinned llama.cpp and creating the Python env on first use
 * (with progress events), or checking a user-supplied llama.cpp.
 */
export async function* ensureToolchain(params: EnsureToolchainParams = {}): AsyncGenerator<StageEvent, Toolchain> {
  const override = toolchainOverride({ ...(params.env ? { env: params.env } : {}), ...(params.override ? { recipe: params.override } : {}) });
  const common = { ...(params.signal ? { signal: params.signal } : {}), ...(params.env ? { env: params.env } : {}) };
  const python = override.python ?? (yield* ensurePythonEnv(common)).python;

  if (override.llamaCpp || override.binDir) {
    const llamaCppDir = override.llamaCpp;
    if (!llamaCppDir) {
      throw new ToolchainError({ message: `${toolchainEnv.binDir} is set but ${toolchainEnv.llamaCpp} is not`, hint: `set ${toolchainEnv.llamaCpp} to the llama.cpp source tree (for the converters)` });
    }
    if (params.without?.length) {
      throw new ToolchainError({ message: `--without builds the managed llama.cpp, but ${toolchainEnv.llamaCpp} (or the recipe's toolchain) points at your own`, hint: `rebuild your llama.cpp without it, or unset ${toolchainEnv.llamaCpp}` });
    }
    const binDir = override.binDir ?? join(llamaCppDir, "build", "bin");
    const memoDir = userMemoDir(params.env);
    const toolchain = assemble({ source: "user", llamaCppDir, binDir, python, commit: await userCommit({ llamaCppDir, memoDir }) });
    assertComplete(toolchain);
    const simulate = simulatedFeature(params.env ?? process.env);
    const proven = yield* proveUserToolchain({ toolchain, memoDir, ...(simulate ? { simulate } : {}), ...(params.signal ? { signal: params.signal } : {}) });
    return { ...toolchain, proof: { features: proven.features, turnedOff: [], selfTestAt: proven.at } };
  }
  const build = yield* ensureLlamaCpp({ ...common, ...(params.without ? { without: params.without } : {}) });
  const toolchain = assemble({ source: "managed", llamaCppDir: build.sourceDir, binDir: build.binDir, python, commit: build.commit });
  return { ...toolchain, proof: { buildKey: build.buildKey, features: build.selfTest.features, turnedOff: build.turnedOff.map((t) => ({ feature: t.feature, why: t.why })), selfTestAt: build.selfTest.at } };
}

/** Where answers about a user's own llama.cpp are kept (its commit, converter, self-test), by its files' identities. */
export function userMemoDir(env?: NodeJS.ProcessEnv): string {
  return join(cacheLayout(env ? { env } : {}).root, "user-toolchains");
}

export function assemble(params: Omit<Toolchain, "tools" | "scripts">): Toolchain {
  const tools = Object.fromEntries(Object.entries(llamaTools).map(([name, bin]) => [name, join(params.binDir, bin)])) as Record<LlamaToolName, string>;
  const scripts = Object.fromEntries(Object.entries(llamaScripts).map(([name, file]) => [name, join(params.llamaCppDir, file)])) as Record<LlamaScriptName, string>;
  return { ...params, tools, scripts };
}

/** Every tool and script the stages call must be there; a user build missing one gets the exact cmake target to build. */
export function assertComplete(toolchain: Toolchain): void {
  for (const [name, path] of Object.entries(toolchain.scripts)) {
    if (!existsSync(path)) throw new ToolchainError({ file: path, message: `${name} script not found in the llama.cpp tree`, hint: `point ${toolchainEnv.llamaCpp} at a llama.cpp checkout` });
  }
  for (const [name, path] of Object.entries(toolchain.tools)) {
    if (!existsSync(path) && !optionalLlamaTools.includes(name as LlamaToolName)) {
      throw new ToolchainError({
        file: path,
        message: "llama.cpp tool not found",
        hint: `build it (cmake --build build --target ${path.split("/").pop()}) or set ${toolchainEnv.binDir}`,
      });
    }
  }
}
