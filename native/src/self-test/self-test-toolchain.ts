import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cosine, embedTexts, headlineOf, IllegalInstructionError, parseKld, runToolToEnd, ToolError, type StageEvent } from "@gguf-pipeline/core";
import { cpuFingerprint, readCpuInfo, systemInfoFeatures, type CpuFeature } from "../cpu/cpu-features.js";
import type { LlamaToolName } from "../tools.js";
import { measureThroughput, type Throughput } from "./measure-throughput.js";
import { probeText, writeProbeModel } from "./write-probe-model.js";

export interface SelfTestToolchainParams {
  tools: Record<LlamaToolName, string>;
  /** A folder of its own: emptied, then filled with the probe model, its quants and the tools' outputs. */
  dir: string;
  /**
   * GGUF_PIPELINE_SIMULATE_SIGILL: the tools fault on this extension (killed by SIGILL, as ggml's AMX kernels are on
   * some Intel machines) unless the build was made without it; so the fallback path runs on any CPU.
   */
  simulate?: CpuFeature;
  /** The extensions the build was made without. */
  without?: readonly CpuFeature[];
  signal?: AbortSignal;
}

export interface SelfTestCheck {
  name: string;
  value: number;
  /** The bound: a KL divergence at most this, a cosine or top-token agreement at least this. */
  limit: number;
  ok: boolean;
}

export interface SelfTestCrash {
  tool: string;
  command: string;
  args: string[];
  signal: string;
  /** Killed on purpose by GGUF_PIPELINE_SIMULATE_SIGILL, not by the CPU. */
  simulated?: CpuFeature;
}

/** Results of another version are not this one's: the self-test runs again (version 2 measures the throughput). */
export const SELF_TEST_VERSION = 2;

export interface SelfTestResult {
  version?: number;
  passed: boolean;
  at: string;
  seconds: number;
  cpu: string;
  fingerprint: string;
  /** ggml's own line of what the build uses: `CPU : SSE3 = 1 | … | AVX512 = 1 |`. */
  systemInfo?: string;
  features: string[];
  checks: SelfTestCheck[];
  crash?: SelfTestCrash;
  /** What failed, in one line. */
  failure?: string;
  /** This machine's prompt-evaluation speed (a passed self-test measures it; plan turns it into minutes). */
  throughput?: Throughput;
}

const stage = "self-test";

/**
 * Each quant's bounds against the F32 result on the probe model, about 4–10 times what the same tools measure (AMD
 * EPYC AVX-512, 2026-12-06: mean KLD F16 3e-6, Q8_0 9e-4, Q4_0 0.11, Q4_K_M 0.07, IQ4_XS 0.09; embedding cosine Q8_0
 * 0.9999, Q4_K_M 0.989): other vector paths differ in their last bits, not by that much, while a wrong kernel gives a
 * KL divergence of several units (a model of other weights: 7.3).
 */
const quants = [
  { type: "F16", kld: 0.001 },
  { type: "Q8_0", kld: 0.01 },
  { type: "Q4_0", kld: 0.4 },
  { type: "Q4_K_M", kld: 0.4 },
  { type: "IQ4_XS", kld: 0.4, imatrix: true },
] as const;
const ctx = "128";

/**
 * Proves a llama.cpp build on this CPU before it is used: on a small model of seeded random weights, the paths the
 * pipeline takes — llama-imatrix on F32, llama-quantize to F16, Q8_0, Q4_0, Q4_K_M and IQ4_XS (with the importance
 * matrix), llama-perplexity's KL divergence of each against F32 (batches, and single tokens as in generation),
 * llama-embedding's vectors and a llama-completion run — each within a bound of the F32 result. A tool that crashes
 * ends it with the crash; the caller decides what to build instead.
 */
export async function* selfTestToolchain(params: SelfTestToolchainParams): AsyncGenerator<StageEvent, SelfTestResult> {
  const started = Date.now();
  const info = readCpuInfo();
  const result: SelfTestResult = { version: SELF_TEST_VERSION, passed: false, at: new Date().toISOString(), seconds: 0, cpu: info.model, fingerprint: cpuFingerprint(info), features: [], checks: [] };
  await rm(params.dir, { recursive: true, force: true });
  await mkdir(params.dir, { recursive: true });
  const t = params.tools;
  const file = (type: string) => join(params.dir, `probe-${type}.gguf`);
  const faults = params.simulate !== undefined && !(params.without ?? []).includes(params.simulate);
  // ggml's line of what the build uses, from the first tool that prints it (a tool that crashes may have printed it too).
  const noteSystemInfo = (lines: readonly string[]) => {
    const line = lines.find((l) => l.includes("system_info:"));
    if (result.systemInfo || !line) return;
    result.systemInfo = line.replace(/^.*system_info:\s*/, "");
    result.features = systemInfoFeatures(result.systemInfo);
  };
  const run = async (tool: LlamaToolName, args: string[], kernels = true) => {
    if (faults && kernels && params.simulate) return simulatedFault(t[tool], args, params.simulate);
    const out = await runToolToEnd({ tool: t[tool].split("/").pop() ?? tool, command: t[tool], args, cwd: params.dir, ...(params.signal ? { signal: params.signal } : {}) });
    noteSystemInfo(out.lines);
    return out;
  };
  const check = (name: string, value: number, limit: number, atMost: boolean) => {
    const c = { name, value, limit, ok: Number.isFinite(value) && (atMost ? value <= limit : value >= limit) };
    result.checks.push(c);
    return { type: "progress", stage, message: `${name} ${Number(value.toPrecision(3))} (${atMost ? "≤" : "≥"} ${limit})${c.ok ? "" : " — OUT OF BOUNDS"}` } satisfies StageEvent;
  };

  try {
    yield { type: "progress", stage, message: "writing the probe model" };
    await writeProbeModel({ file: file("F32") });
    await writeFile(join(params.dir, "text.txt"), probeText());
    await run("imatrix", ["-m", file("F32"), "-f", "text.txt", "-o", "imatrix.gguf", "-c", ctx, "--chunks", "4"]);
    for (const q of quants) {
      await run("quantize", [...("imatrix" in q ? ["--imatrix", "imatrix.gguf"] : []), file("F32"), file(q.type), q.type], false);
    }
    yield { type: "progress", stage, message: "quantized the probe model to F16, Q8_0, Q4_0, Q4_K_M and IQ4_XS" };
    await run("perplexity", ["-m", file("F32"), "-f", "text.txt", "-c", ctx, "--chunks", "8", "--kl-divergence-base", "base.kld"]);
    for (const q of quants) {
      const out = parseKld((await run("perplexity", ["-m", file(q.type), "-c", ctx, "--kl-divergence-base", "base.kld", "--kl-divergence"])).lines.join("\n"));
      yield check(`${q.type} mean KLD`, out.kldMean, q.kld, true);
    }
    // One token per micro-batch: the matrix-vector kernels that generation uses.
    const single = parseKld((await run("perplexity", ["-m", file("Q4_K_M"), "-c", ctx, "--chunks", "2", "-ub", "1", "--kl-divergence-base", "base.kld", "--kl-divergence"])).lines.join("\n"));
    yield check("Q4_K_M mean KLD, one token at a time", single.kldMean, 0.4, true);
    const texts = ["the model runs on every machine and its tools agree with one another", "small numbers stay close to reference values today"];
    const embed = async (type: string) => {
      if (faults && params.simulate) await simulatedFault(t.embedding, ["-m", file(type)], params.simulate);
      return (await embedTexts({ file: file(type), embeddingTool: t.embedding, texts, ctx: 128, ...(params.signal ? { signal: params.signal } : {}) })).vectors;
    };
    const reference = await embed("F32");
    for (const [type, limit] of [["Q8_0", 0.999], ["Q4_K_M", 0.95]] as const) {
      const vectors = await embed(type);
      yield check(`${type} embedding cosine`, Math.min(...texts.map((_, i) => cosine(reference[i] ?? [], vectors[i] ?? []))), limit, false);
    }
    const generated = await run("completion", ["-m", file("Q4_K_M"), "-p", "the model runs", "-n", "8", "--temp", "0", "-no-cnv", "--no-warmup"]);
    yield check("Q4_K_M tokens generated", generated.stdout.trim().length > "the model runs".length ? 1 : 0, 1, false);
    const bad = result.checks.filter((c) => !c.ok);
    result.passed = bad.length === 0;
    if (!result.passed) result.failure = `out of bounds: ${bad.map((c) => `${c.name} ${Number(c.value.toPrecision(3))} (limit ${c.limit})`).join(", ")}`;
    if (result.passed && !faults) {
      yield { type: "progress", stage, message: "measuring this machine's prompt speed" };
      const speed = await measureThroughput({ tools: t, dir: params.dir, ...(params.signal ? { signal: params.signal } : {}) });
      if (Number.isFinite(speed.flopsPerSecond)) result.throughput = speed;
      yield { type: "progress", stage, message: `prompt speed ${(speed.flopsPerSecond / 1e9).toFixed(0)} GFLOP/s (F16)` };
    }
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    noteSystemInfo(error.stderrTail.split("\n"));
    if (error.signal) {
      result.crash = {
        tool: error.tool,
        command: error instanceof IllegalInstructionError ? error.command : error.tool,
        args: error instanceof IllegalInstructionError ? [...error.args] : [],
        signal: error.signal,
        ...(faults && params.simulate ? { simulated: params.simulate } : {}),
      };
    }
    result.failure = error.signal ? error.message : `${error.tool} failed: ${headlineOf(error.stderrTail.split("\n")) ?? error.message}`;
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** What a CPU that faults does to a tool, on purpose: the real program is never started; a shell kills itself with SIGILL. */
async function simulatedFault(command: string, args: string[], feature: CpuFeature): Promise<never> {
  const error = await runToolToEnd({ tool: command.split("/").pop() ?? command, command: "/bin/sh", args: ["-c", `kill -ILL $$ # simulated ${feature} fault`] }).catch((e: unknown) => e);
  if (error instanceof IllegalInstructionError) throw new IllegalInstructionError({ tool: error.tool, message: error.message, signal: "SIGILL", stderrTail: "", canceled: false, command, args });
  throw error;
}
