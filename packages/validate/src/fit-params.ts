import { runToolToEnd } from "@gguf-pipeline/core";

export interface FitParamsParams {
  file: string;
  /** llama.cpp's llama-fit-params. */
  fitTool: string;
  ctx: number;
  flashAttention?: boolean;
  signal?: AbortSignal;
}

export interface FitParamsOutput {
  ctx: number;
  /** llama.cpp's own projection, summed over its devices: model, context (KV cache and outputs), compute buffers. */
  modelBytes: number;
  contextBytes: number;
  computeBytes: number;
  totalBytes: number;
}

const mib = 2 ** 20;

/**
 * The memory llama.cpp itself projects for a model at a context: llama-fit-params --fit-print, the same code as
 * `--fit` ("projected to use N MiB"), which reserves the real buffers without loading the weights. It prints whole MiB
 * per device: "<device> <model> <context> <compute>".
 */
export async function fitParams(params: FitParamsParams): Promise<FitParamsOutput> {
  const out = await runToolToEnd({
    tool: "llama-fit-params",
    command: params.fitTool,
    args: ["-m", params.file, "-c", String(params.ctx), "-fa", params.flashAttention === false ? "off" : "on", "--fit-print", "on", "-lv", "1"],
    file: params.file,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  let model = 0;
  let context = 0;
  let compute = 0;
  for (const line of out.stdout.split("\n")) {
    const m = /^\S.*?\s(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    model += Number(m[1]);
    context += Number(m[2]);
    compute += Number(m[3]);
  }
  return { ctx: params.ctx, modelBytes: model * mib, contextBytes: context * mib, computeBytes: compute * mib, totalBytes: (model + context + compute) * mib };
}
