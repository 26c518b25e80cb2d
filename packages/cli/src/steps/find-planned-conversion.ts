import { join } from "node:path";
import { findCachedArtifact, hashFile, type Artifact, type ConvertOuttype } from "@gguf-pipeline/core";
import { convertCacheKey, converterIdentity } from "@gguf-pipeline/convert";
import type { PlanContext } from "./run-context.js";

/**
 * For `plan`: the conversion (the text model, or with `mmproj` its projector) made before from these very inputs, by
 * the cache key the run would compute; undefined when it must run (or `--force`).
 */
export async function findPlannedConversion(ctx: PlanContext, params: { name: string; outtype: ConvertOuttype; mmproj?: boolean }): Promise<Artifact | undefined> {
  const { prepared, toolchain } = ctx;
  const { loaded, source } = prepared;
  if (ctx.force) return undefined;
  const inputs = [];
  for (const file of source.files) inputs.push({ name: file, sha256: (await hashFile({ file: join(source.dir, file) })).sha256 });
  const converter = await converterIdentity({ source: toolchain.source, commit: toolchain.llamaCpp.commit, llamaCppDir: toolchain.llamaCpp.sourceDir, python: toolchain.python.path });
  const cacheKey = convertCacheKey({ converter, outtype: params.outtype, name: params.name, inputs, metadata: prepared.metadata, ...(params.mmproj ? { mmproj: true } : {}) });
  return findCachedArtifact({ outDir: loaded.outDir, cacheKey });
}
