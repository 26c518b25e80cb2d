import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureFreeSpace } from "./ensure-free-space.js";
import type { StageEvent } from "../events.js";
import { hashFile } from "./hash-file.js";
import { findCachedArtifact, recordArtifact } from "./output-state.js";
import type { Artifact } from "../report/report-types.js";
import { tempPathFor } from "./temp-path.js";

export interface ProduceArtifactParams {
  stage: string;
  outDir: string;
  /** Final path, relative to outDir. */
  path: string;
  cacheKey: string;
  /** Shown while it is made, and (with the result) when done. */
  title: string;
  /** Writes the file at `partial` (a hidden name in outDir), yielding progress. */
  make: (partial: string) => AsyncGenerator<StageEvent, void>;
  /** Extra facts for the artifact (GGUF type, quant info...). */
  describe?: (partial: string) => Promise<Partial<Artifact>>;
  /** About how many bytes making it writes (checked against the free space first). */
  needBytes?: number;
  force?: boolean;
  signal?: AbortSignal;
}

export interface ProduceArtifactOutput {
  artifact: Artifact;
  cached: boolean;
  seconds: number;
}

/**
 * The one way a stage makes a file: reuse it when the cache key and the file are unchanged; otherwise make it under a
 * hidden partial name, hash it, rename it into place and record it. A failure or interrupt removes the partial file.
 */
export async function* produceArtifact(params: ProduceArtifactParams): AsyncGenerator<StageEvent, ProduceArtifactOutput> {
  const started = Date.now();
  const { stage } = params;
  yield { type: "start", stage, title: params.title };
  if (!params.force) {
    const artifact = await findCachedArtifact({ outDir: params.outDir, cacheKey: params.cacheKey, path: params.path });
    if (artifact) {
      yield { type: "cache-hit", stage, key: params.cacheKey, message: `${params.path} is up to date (cache hit)` };
      yield { type: "artifact", stage, artifact };
      const seconds = (Date.now() - started) / 1000;
      yield { type: "done", stage, title: `${params.path} — cached`, seconds, cached: true };
      return { artifact, cached: true, seconds };
    }
  }
  if (params.needBytes) await ensureFreeSpace({ dir: params.outDir, bytes: params.needBytes, what: params.path });
  await mkdir(params.outDir, { recursive: true });
  const partial = tempPathFor(join(params.outDir, params.path));
  let renamed = false;
  try {
    yield* params.make(partial);
    const extra = (await params.describe?.(partial)) ?? {};
    const hashed = await hashFile({ file: partial, memoDir: false, ...(params.signal ? { signal: params.signal } : {}) });
    await rename(partial, join(params.outDir, params.path));
    renamed = true;
    const artifact: Artifact = { path: params.path, stage, sha256: hashed.sha256, bytes: hashed.bytes, cacheKey: params.cacheKey, ...extra };
    await recordArtifact({ outDir: params.outDir, artifact });
    yield { type: "artifact", stage, artifact };
    const seconds = (Date.now() - started) / 1000;
    yield { type: "done", stage, title: `${params.path} — ${(artifact.bytes / 1e6).toFixed(2)} MB, ${seconds.toFixed(1)} s`, seconds, cached: false };
    return { artifact, cached: false, seconds };
  } finally {
    if (!renamed) await rm(partial, { force: true });
  }
}
