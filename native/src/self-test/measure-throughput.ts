import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runToolToEnd } from "@gguf-pipeline/core";
import type { LlamaToolName } from "../tools.js";
import { probeText, writeProbeModel, type ProbeShape } from "./write-probe-model.js";

export interface MeasureThroughputParams {
  tools: Record<LlamaToolName, string>;
  /** A folder to work in; what it writes there is removed after. */
  dir: string;
  signal?: AbortSignal;
}

/** How fast this machine's llama.cpp evaluates a prompt: what `plan` turns into minutes for imatrix and evaluate. */
export interface Throughput {
  /** Floating-point operations a second (2 per weight per token) in llama-perplexity's prompt evaluation of an F16 model. */
  flopsPerSecond: number;
  /** The measurement: the probe's weights, the tokens evaluated and the milliseconds llama-perplexity reports. */
  parameters: number;
  tokens: number;
  milliseconds: number;
}

// 4 layers of a 1,024-wide model: 50 M weights, big enough for the matrix products to dominate, 100 MB in F16.
const shape: ProbeShape = { embd: 1024, heads: 16, headsKv: 4, layers: 4, ff: 2816, ctx: 512 };

/**
 * llama-perplexity over 2 chunks of 512 on a seeded F16 probe model of 46 M weights, timed from its own log (from
 * "calculating perplexity" to "Final estimate": loading is not counted). A model's time is then about 2 × weights × tokens / flopsPerSecond — a rule of thumb
 * (bigger models are as fast per weight or slower once they leave the CPU's caches), said as such where it is shown.
 */
export async function measureThroughput(params: MeasureThroughputParams): Promise<Throughput> {
  const f32 = join(params.dir, "throughput-F32.gguf");
  const f16 = join(params.dir, "throughput-F16.gguf");
  const text = join(params.dir, "throughput.txt");
  const sig = params.signal ? { signal: params.signal } : {};
  try {
    const probe = await writeProbeModel({ file: f32, shape, seed: 4242 });
    await runToolToEnd({ tool: "llama-quantize", command: params.tools.quantize, args: [f32, f16, "F16"], ...sig });
    await rm(f32, { force: true });
    await writeFile(text, [probeText(1), probeText(2), probeText(3)].join("\n"));
    const out = await runToolToEnd({ tool: "llama-perplexity", command: params.tools.perplexity, args: ["-m", f16, "-f", text, "-c", "512", "--chunks", "2", "-b", "512"], ...sig });
    const milliseconds = evaluationMilliseconds(out.lines);
    const tokens = 2 * 512;
    return { flopsPerSecond: (2 * probe.parameters * tokens) / (milliseconds / 1000), parameters: probe.parameters, tokens, milliseconds };
  } finally {
    await Promise.all([f32, f16, text].map((f) => rm(f, { force: true })));
  }
}

/** Milliseconds between llama-perplexity's start of the chunks and its final estimate, from the log's time stamps
 * (`M.SS.mmm.uuu`), else from its "seconds per pass" for the two passes. */
export function evaluationMilliseconds(lines: readonly string[]): number {
  const stamp = (re: RegExp) => {
    const m = lines.map((l) => /^(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) /.exec(l) && re.test(l) ? /^(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) /.exec(l) : null).find(Boolean);
    return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 + Number(m[3]) + Number(m[4]) / 1000 : Number.NaN;
  };
  const span = stamp(/Final estimate/) - stamp(/calculating perplexity over/);
  if (Number.isFinite(span) && span > 0) return span;
  const perPass = Number(/([\d.]+) seconds per pass/.exec(lines.join("\n"))?.[1] ?? Number.NaN);
  return perPass * 2 * 1000;
}
