import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { hashFile, linesOf, produceArtifact, runTool, stableKey, type Artifact, type ProduceArtifactOutput, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { countTokens } from "./count-tokens.js";
import { TextTooShortError } from "./errors.js";

export interface ComputeImatrixParams {
  /** The high-precision intermediate (the convert artifact). */
  input: Artifact;
  outDir: string;
  name: string;
  /** Calibration text file. */
  text: string;
  ctx: number;
  chunks?: number;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

export type ImatrixOutput = ProduceArtifactOutput;

const stage = "imatrix";

/** What makes an importance matrix what it is: the intermediate's and the text's content, the options, the tool. */
export function imatrixCacheKey(params: { input: string; text: string; textName: string; ctx: number; chunks?: number; commit: string }): string {
  return stableKey({ stage, ...params });
}

/**
 * Runs llama-imatrix once on the intermediate and keeps `<name>.imatrix.gguf` beside the quants (cached by the
 * intermediate's and the text's content, the options and the llama.cpp commit). The text is passed by its file
 * name from its own folder, so the dataset name recorded in every quant carries no local path.
 */
export async function* computeImatrix(params: ComputeImatrixParams): AsyncGenerator<StageEvent, ImatrixOutput> {
  const sig = params.signal ? { signal: params.signal } : {};
  const text = await hashFile({ file: params.text, ...sig });
  return yield* produceArtifact({
    stage,
    outDir: params.outDir,
    path: `${params.name}.imatrix.gguf`,
    cacheKey: imatrixCacheKey({ input: params.input.sha256, text: text.sha256, textName: basename(params.text), ctx: params.ctx, ...(params.chunks ? { chunks: params.chunks } : {}), commit: params.toolchain.commit }),
    title: `Importance matrix from ${basename(params.text)}`,
    force: params.force ?? false,
    ...sig,
    make: async function* (partial) {
      // llama-imatrix needs two contexts' worth of text; say so (and how much) before it fails on its own.
      const model = join(params.outDir, params.input.path);
      const tokens = await countTokens({ model, text: params.text, toolchain: params.toolchain, ...sig });
      if (tokens < 2 * params.ctx) throw new TextTooShortError({ file: params.text, tool: "llama-imatrix", tokens, ctx: params.ctx, setting: "imatrix" });
      for await (const line of linesOf(
        runTool({
          tool: "llama-imatrix",
          command: params.toolchain.tools.imatrix,
          args: [
            "-m", join(params.outDir, params.input.path),
            "-f", basename(params.text),
            "-o", partial,
            "--output-format", "gguf",
            "-c", String(params.ctx),
            ...(params.chunks ? ["--chunks", String(params.chunks)] : []),
            "-t", String(availableParallelism()),
          ],
          cwd: dirname(params.text),
          file: params.text,
          ...sig,
        }),
      )) {
        const chunk = /\[(\d+)\]([\d.]+)/.exec(line);
        yield { type: "progress", stage, message: chunk ? `chunk ${chunk[1]}, ppl ${chunk[2]}` : line.slice(0, 120) };
      }
    },
  });
}
