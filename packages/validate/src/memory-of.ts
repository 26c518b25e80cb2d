import { estimateMemory, IllegalInstructionError, modelShape, readGguf, type MemoryAtContext } from "@gguf-pipeline/core";
import { fitParams } from "./fit-params.js";

/** The contexts memory is shown at: 4k, 8k and 32k, capped at the model's own (or just its own when shorter). */
export function memoryContexts(contextLength: number): number[] {
  const common = [4096, 8192, 32768].filter((c) => c <= contextLength);
  return common.length > 0 ? common : [contextLength];
}

/**
 * A model's memory at the contexts people pick from: our estimate from the header (within 1% of llama.cpp's own
 * buffers on the fixtures, and what `plan` uses before any file exists), and, given llama-fit-params, llama.cpp's own
 * projection beside it (`inspect` asks for it; a run does not, to keep its own cost near the tools').
 */
export async function memoryOf(params: { file: string; fitTool?: string; embeddingModel: boolean; signal?: AbortSignal }): Promise<MemoryAtContext[] | undefined> {
  const header = await readGguf({ file: params.file });
  const shape = modelShape({ metadata: header.metadata, weightsBytes: header.bytes - header.tensorDataOffset, embeddingModel: params.embeddingModel });
  const arch = String(header.metadata["general.architecture"] ?? "");
  const contextLength = header.metadata[`${arch}.context_length`];
  if (!shape || typeof contextLength !== "number") return undefined;
  const out: MemoryAtContext[] = [];
  for (const ctx of memoryContexts(contextLength)) {
    const fitTool = params.fitTool;
    const projected = fitTool ? await fitParams({ file: params.file, fitTool, ctx, ...(params.signal ? { signal: params.signal } : {}) }).catch((error: unknown) => {
          if (error instanceof IllegalInstructionError) throw error;
          return undefined;
        })
      : undefined;
    // It prints whole MiB per buffer: below a MiB or so (a test model) it says 0, which is no projection.
    out.push({ ctx, ...(projected?.totalBytes ? { projectedBytes: projected.totalBytes } : {}), estimatedBytes: estimateMemory({ shape, ctx }).totalBytes });
  }
  return out;
}
