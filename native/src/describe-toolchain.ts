import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runToolToEnd } from "@gguf-pipeline/core";
import { cacheLayout } from "./cache-layout.js";
import { readCpuChoice, readSelfTest, type TurnedOff } from "./cpu/cpu-choice.js";
import { cpuFeatureNames, cpuFingerprint, readCpuInfo, switchableFeatures } from "./cpu/cpu-features.js";
import type { LlamaCppBuild } from "./ensure-llama-cpp.js";
import { simulatedFeature } from "./ensure-llama-cpp.js";
import { toolchainEnv, toolchainOverride, userMemoDir, type ToolchainOverride } from "./ensure-toolchain.js";
import { SELF_TEST_VERSION, type SelfTestResult } from "./self-test/self-test-toolchain.js";
import { identityMemo } from "./user/remember-by-identity.js";
import { userCommit } from "./user/user-commit.js";
import { readPin } from "./pin.js";
import type { PythonEnv } from "./ensure-python-env.js";
import { llamaScripts, llamaTools } from "./tools.js";

export interface DescribeToolchainParams {
  env?: NodeJS.ProcessEnv;
  override?: ToolchainOverride;
  /** Ask each program and the Python env for their versions (slower: starts Python). */
  probe?: boolean;
}

export interface ToolStatus {
  name: string;
  path: string;
  present: boolean;
  version?: string;
}

export interface ToolchainDescription {
  cacheRoot: string;
  source: "managed" | "user";
  llamaCpp: { commit: string; tag?: string; npmPackage?: string; sourceDir: string; binDir: string; ready: boolean; buildKey?: string; flags?: string[]; without?: string[] };
  /** This CPU, and the instruction-set extensions it advertises that a build may use or be made without. */
  cpu: { model: string; fingerprint: string; extensions: string[] };
  /** The build's self-test on this CPU, when it ran: what ggml says the build uses, the checks, a crash. */
  selfTest?: SelfTestResult;
  /** Extensions the managed build for this CPU is made without, and why. */
  turnedOff: TurnedOff[];
  python: { path: string; ready: boolean; version?: string; packages?: Record<string, string>; venvDir?: string };
  tools: ToolStatus[];
  scripts: ToolStatus[];
  /** What is missing, each with the command that fixes it. */
  problems: { what: string; fix: string }[];
}

/** Where every tool is and whether it is ready, without building or installing anything (for `doctor` and `plan`). */
export async function describeToolchain(params: DescribeToolchainParams = {}): Promise<ToolchainDescription> {
  const base = cacheLayout(params.env ? { env: params.env } : {});
  let layout = base;
  const simulate = simulatedFeature(params.env ?? process.env);
  let selfTest: SelfTestResult | undefined;
  let turnedOff: TurnedOff[] = [];
  const override = toolchainOverride({ ...(params.env ? { env: params.env } : {}), ...(params.override ? { recipe: params.override } : {}) });
  const pin = readPin();
  const problems: ToolchainDescription["problems"] = [];
  const setup = "npm run pipeline -- setup   (or run any recipe: the first run builds what is missing)";

  let llamaCpp: ToolchainDescription["llamaCpp"];
  let source: "managed" | "user";
  if (override.llamaCpp) {
    source = "user";
    const binDir = override.binDir ?? join(override.llamaCpp, "build", "bin");
    const memoDir = userMemoDir(params.env);
    const commit = await userCommit({ llamaCppDir: override.llamaCpp, memoDir });
    llamaCpp = { commit, sourceDir: override.llamaCpp, binDir, ready: true };
    const tools = Object.values(llamaTools).map((bin) => join(binDir, bin));
    const memo = await identityMemo<SelfTestResult>({ dir: memoDir, name: "self-test", files: tools, extra: { cpu: cpuFingerprint(), simulate: simulate ?? null, version: SELF_TEST_VERSION } });
    selfTest = (await memo.recall())?.value;
  } else {
    source = "managed";
    turnedOff = (await readCpuChoice(base.cpuChoiceFile)).turnedOff;
    layout = cacheLayout({ ...(params.env ? { env: params.env } : {}), without: turnedOff.map((t) => t.feature) });
    selfTest = await readSelfTest(layout.selfTestFile, simulate);
    const build = await readFile(layout.buildMarker, "utf8").then((t) => JSON.parse(t) as LlamaCppBuild).catch(() => undefined);
    llamaCpp = {
      commit: pin.source.llamaCppCommit,
      tag: pin.source.llamaCppTag,
      npmPackage: `${pin.source.npmPackage}@${pin.source.version}`,
      sourceDir: layout.sourceDir,
      binDir: join(layout.buildDir, "bin"),
      ready: Boolean(build),
      buildKey: layout.buildKey,
      flags: build?.flags ?? [`-DCMAKE_BUILD_TYPE=${pin.cmake.buildType}`, ...pin.cmake.flags],
      ...(layout.without.length > 0 ? { without: layout.without } : {}),
    };
    if (!build) problems.push({ what: `llama.cpp ${pin.source.llamaCppCommit.slice(0, 8)} is not built yet (${layout.buildDir})`, fix: setup });
  }
  if ((source === "user" || llamaCpp.ready) && !selfTest?.passed) {
    const fix = source === "user" ? "run any recipe: your llama.cpp is self-tested on first use" : setup;
    problems.push({ what: selfTest ? `llama.cpp failed its self-test on this CPU: ${selfTest.failure ?? "unknown"}` : "llama.cpp has not been self-tested on this CPU yet", fix });
  }

  const tools: ToolStatus[] = Object.values(llamaTools).map((bin) => ({ name: bin, path: join(llamaCpp.binDir, bin), present: existsSync(join(llamaCpp.binDir, bin)) }));
  const scripts: ToolStatus[] = Object.values(llamaScripts).map((file) => ({ name: file, path: join(llamaCpp.sourceDir, file), present: existsSync(join(llamaCpp.sourceDir, file)) }));
  if (source === "user" || llamaCpp.ready) {
    for (const tool of [...tools, ...scripts].filter((t) => !t.present)) {
      problems.push({ what: `${tool.name} is missing (${tool.path})`, fix: source === "user" ? `build it in your llama.cpp, or unset ${toolchainEnv.llamaCpp}` : setup });
    }
    llamaCpp.ready = tools.every((t) => t.present) && scripts.every((t) => t.present);
  }

  let python: ToolchainDescription["python"];
  if (override.python) {
    python = { path: override.python, ready: existsSync(override.python) };
    if (!python.ready) problems.push({ what: `${toolchainEnv.python} points at ${override.python}, which does not exist`, fix: `fix or unset ${toolchainEnv.python}` });
  } else {
    const env = await readFile(layout.venvMarker, "utf8").then((t) => JSON.parse(t) as PythonEnv).catch(() => undefined);
    python = env ? { path: env.python, ready: true, version: env.version, packages: env.packages, venvDir: env.venvDir } : { path: join(layout.venvDir, "bin", "python"), ready: false, venvDir: layout.venvDir };
    if (!env) problems.push({ what: `the Python env for the converters is not created yet (${layout.venvDir})`, fix: setup });
  }

  if (params.probe) {
    const completion = tools.find((t) => t.name === llamaTools.completion);
    if (completion?.present) {
      const out = await runToolToEnd({ tool: completion.name, command: completion.path, args: ["--version"] }).catch(() => undefined);
      const version = out?.lines.find((l) => l.startsWith("version:"))?.replace("version:", "").trim();
      if (version) for (const tool of tools) if (tool.present) tool.version = version;
    }
    if (python.ready) {
      const probe = await runToolToEnd({
        tool: "python",
        command: python.path,
        args: ["-c", "import sys, json, importlib.metadata as m\nout={'python': sys.version.split()[0]}\nfor p in ['torch','transformers','sentencepiece','numpy','safetensors','protobuf','peft']:\n  try: out[p]=m.version(p)\n  except Exception: out[p]=None\nprint(json.dumps(out))"],
      }).catch(() => undefined);
      if (probe) {
        const found = JSON.parse(probe.lines.at(-1) ?? "{}") as Record<string, string | null>;
        python.version = found.python ?? undefined;
        python.packages = Object.fromEntries(Object.entries(found).filter(([k, v]) => k !== "python" && v)) as Record<string, string>;
        for (const need of ["torch", "transformers", "sentencepiece", "numpy", "safetensors"]) {
          if (!found[need]) problems.push({ what: `Python package ${need} is missing in ${python.path}`, fix: override.python ? `${python.path} -m pip install ${need}` : setup });
        }
      } else {
        problems.push({ what: `${python.path} does not run`, fix: override.python ? `fix or unset ${toolchainEnv.python}` : setup });
      }
    }
  }
  const info = readCpuInfo();
  const extensions = cpuFeatureNames.flatMap((f) => switchableFeatures[f].cpuinfo).filter((flag) => info.flags.includes(flag));
  const cpu = { model: info.model, fingerprint: cpuFingerprint(info), extensions: ["avx2", "fma", "f16c", ...extensions].filter((f) => info.flags.includes(f)) };
  return { cacheRoot: layout.root, source, llamaCpp, cpu, ...(selfTest ? { selfTest } : {}), turnedOff, python, tools, scripts, problems };
}
