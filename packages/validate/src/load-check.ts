import { IllegalInstructionError, runToolToEnd, ToolError } from "@gguf-pipeline/core";

export interface LoadCheckParams {
  file: string;
  /** llama.cpp's llama-fit-params: it loads the model's structure (every tensor by name and shape) without its weights. */
  fitTool: string;
  signal?: AbortSignal;
}

export interface LoadCheckOutput {
  name: "loads";
  ok: boolean;
  fact: string;
}

/**
 * Whether the pinned llama.cpp loads the model at all — a header can be sound and name a layer the file has no tensors
 * for (a config.json that says 3 layers over weights of 2). llama-fit-params builds the model and a context without
 * reading the weights: ~20 ms, so every model gets it, smoke test or not.
 */
export async function loadCheck(params: LoadCheckParams): Promise<LoadCheckOutput> {
  try {
    await runToolToEnd({ tool: "llama-fit-params", command: params.fitTool, args: ["-m", params.file, "-c", "512", "--fit-print", "on", "-lv", "1"], file: params.file, tailLines: 60, ...(params.signal ? { signal: params.signal } : {}) });
    return { name: "loads", ok: true, fact: "llama.cpp builds the model and a context from it (llama-fit-params)" };
  } catch (error) {
    if (!(error instanceof ToolError) || error instanceof IllegalInstructionError) throw error;
    const lines = error.stderrTail.split("\n").map((l) => l.replace(/^[\d.]+ [A-Z] /, "").trim());
    const cause = lines.find((l) => /error loading model|error:|failed/i.test(l) && !/failed to load model$/.test(l)) ?? lines.find((l) => /failed/i.test(l)) ?? error.message;
    return { name: "loads", ok: false, fact: `llama.cpp cannot load it: ${cause.slice(0, 200)}` };
  }
}
