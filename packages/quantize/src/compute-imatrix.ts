import { mkdir, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { findCachedArtifact, hashFile, recordArtifact, runTool, stableKey, tempPathFor, type Artifact, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";

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

export interface ImatrixOutput {
  artifact: Artifact;
  cached: boolean;
  seconds: number;
}

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
  const started = Date.now();
  const sig = params.signal ? { signal: params.signal } : {};
  yield { type: "start", stage, title: `Importance matrix from ${basename(params.text)}` };
  const text = await hashFile({ file: params.text, ...sig });
  const cacheKey = imatrixCacheKey({ input: params.input.sha256, text: text.sha256, textName: basename(params.text), ctx: params.ctx, ...(params.chunks ? { chunks: params.chunks } : {}), commit: params.toolchain.commit });
  const path = `${params.name}.imatrix.gguf`;
  if (!params.force) {
    const artifact = await findCachedArtifact({ outDir: params.outDir, cacheKey, path });
    if (artifact) {
      yield { type: "cache-hit", stage, key: cacheKey, message: `${path} is up to date (cache hit)` };
      yield { type: "artifact", stage, artifact };
      const seconds = (Date.now() - started) / 1000;
      yield { type: "done", stage, title: `${path} — cached`, seconds, cached: true };
      return { artifact, cached: true, seconds };
    }
  }
  await mkdir(params.outDir, { recursive: true });
  const partial = tempPathFor(join(params.outDir, path));
  let renamed = false;
  const run = runTool({
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
  });
  try {
    for (;;) {
      const next = await run.next();
      if (next.done) break;
      const chunk = /\[(\d+)\]([\d.]+)/.exec(next.value);
      yield { type: "progress", stage, message: chunk ? `chunk ${chunk[1]}, ppl ${chunk[2]}` : next.value.slice(0, 120) };
    }
    const hashed = await hashFile({ file: partial, memoDir: false, ...sig });
    await rename(partial, join(params.outDir, path));
    renamed = true;
    const artifact: Artifact = { path, stage, sha256: hashed.sha256, bytes: hashed.bytes, cacheKey };
    await recordArtifact({ outDir: params.outDir, artifact });
    yield { type: "artifact", stage, artifact };
    const seconds = (Date.now() - started) / 1000;
    yield { type: "done", stage, title: `${path} — ${seconds.toFixed(1)} s`, seconds, cached: false };
    return { artifact, cached: false, seconds };
  } finally {
    if (!renamed) {
      await run.return({ exitCode: -1, stdout: "", tail: [], lines: [] });
      await rm(partial, { force: true });
    }
  }
}
