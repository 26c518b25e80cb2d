import { stat } from "node:fs/promises";
import { join } from "node:path";
import { fileInside, formatBytes, InputError, type Artifact, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { LocalFileError, PublishError } from "../errors.js";
import { splitForHub } from "./split-for-hub.js";
import type { HubPart } from "./split-for-hub.js";

export interface CollectLocalFilesParams {
  outDir: string;
  artifacts: Artifact[];
  maxFileBytes: number;
  toolchain?: Toolchain;
  stage: string;
  signal?: AbortSignal;
}

/**
 * The run's files for one repo, each checked against the report before its sha256 is trusted (it exists, at the size
 * the report records: the sha256 is not recomputed), and a file over the Hub's per-file limit split into parts. A
 * recipe's own split already made parts: one still over the limit is an error, not split again.
 */
export async function* collectLocalFiles(params: CollectLocalFilesParams): AsyncGenerator<StageEvent, HubPart[]> {
  const parts: HubPart[] = [];
  for (const artifact of params.artifacts) {
    // report.json is input too: a file it names must be a file inside the output folder, never a link out of it.
    const file = await fileInside({ dir: params.outDir, path: artifact.path, hint: "only the run's own files are published: run the pipeline again" }).catch((error: unknown) => {
      if (error instanceof InputError && error.message === "missing") return join(params.outDir, artifact.path);
      throw error;
    });
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new LocalFileError({ file, message: `${artifact.path} is listed in report.json but missing from the output folder` });
    if (info.size !== artifact.bytes) throw new LocalFileError({ file, message: `${artifact.path} is ${info.size} bytes, but report.json records ${artifact.bytes}` });
    if (artifact.bytes <= params.maxFileBytes) {
      parts.push({ artifact, file });
      continue;
    }
    if (artifact.quant?.shard) {
      throw new PublishError({ message: `${artifact.path} is ${formatBytes(artifact.bytes)}, over the Hub's per-file limit of ${formatBytes(params.maxFileBytes)}`, exitCode: 2, file, hint: "lower the recipe's split.maxSize and run again" });
    }
    parts.push(...(yield* splitForHub({ outDir: params.outDir, artifact, maxFileBytes: params.maxFileBytes, stage: params.stage, ...(params.toolchain ? { toolchain: params.toolchain } : {}), ...(params.signal ? { signal: params.signal } : {}) })));
  }
  return parts;
}
