import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hashFile, runTool, tempPathFor } from "@gguf-pipeline/core";
import type { Artifact, StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { PublishError } from "../errors.js";

/** A split quant joined back into one file: Ollama loads one GGUF per model (the last model layer wins). */
export interface MergedShards {
  /** Absolute path of the joined file. */
  path: string;
  sha256: string;
  bytes: number;
}

interface MergeRecord {
  shards: string[];
  sha256: string;
  bytes: number;
}

/** `<outDir>/ollama/.merged/<name>`: outside every tag folder, linked into them. */
export function mergedPath(outDir: string, name: string): string {
  return join(outDir, "ollama", ".merged", name);
}

/** The joined file from an earlier publish, when it is still there and was made from these very shards. */
export async function findMergedShards(params: { outDir: string; name: string; shards: Artifact[] }): Promise<MergedShards | undefined> {
  const path = mergedPath(params.outDir, params.name);
  const record = await readFile(`${path}.json`, "utf8")
    .then((t) => JSON.parse(t) as MergeRecord)
    .catch(() => undefined);
  if (!record || record.shards.join() !== params.shards.map((s) => s.sha256).join()) return undefined;
  const size = await stat(path).then((s) => s.size, () => -1);
  return size === record.bytes ? { path, sha256: record.sha256, bytes: record.bytes } : undefined;
}

/**
 * Joins a split quant's shards with llama-gguf-split --merge (once: reused while the shards are the same), hashing
 * the result for its blob digest. Written under a partial name and renamed into place.
 */
export async function* mergeShards(params: { outDir: string; name: string; shards: Artifact[]; toolchain?: Toolchain; stage: string; signal?: AbortSignal }): AsyncGenerator<StageEvent, MergedShards> {
  const known = await findMergedShards(params);
  if (known) return known;
  const first = params.shards[0];
  if (!first) throw new PublishError({ message: `${params.name}: no shards to join`, exitCode: 2 });
  if (!params.toolchain) {
    throw new PublishError({ message: `${first.path} is split into ${params.shards.length} shards and Ollama loads one file, but no llama-gguf-split was given to join them`, exitCode: 2, file: first.path, hint: "publish through `pipeline publish`, which brings the toolchain, or leave the type out with publish.ollama.tags" });
  }
  const path = mergedPath(params.outDir, params.name);
  const partial = tempPathFor(path);
  await mkdir(join(params.outDir, "ollama", ".merged"), { recursive: true });
  try {
    yield { type: "progress", stage: params.stage, message: `joining ${params.shards.length} shards of ${first.path} into one file for Ollama` };
    const tool = runTool({ tool: "llama-gguf-split", command: params.toolchain.tools.ggufSplit, args: ["--merge", join(params.outDir, first.path), partial], file: first.path, ...(params.signal ? { signal: params.signal } : {}) });
    for (;;) {
      const next = await tool.next();
      if (next.done) break;
    }
    const hashed = await hashFile({ file: partial, memoDir: false, ...(params.signal ? { signal: params.signal } : {}) });
    await rename(partial, path);
    const record: MergeRecord = { shards: params.shards.map((s) => s.sha256), sha256: hashed.sha256, bytes: hashed.bytes };
    await writeFile(`${path}.json`, `${JSON.stringify(record)}\n`);
    return { path, sha256: hashed.sha256, bytes: hashed.bytes };
  } finally {
    await rm(partial, { force: true });
  }
}
