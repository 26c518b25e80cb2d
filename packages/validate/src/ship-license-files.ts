import { copyFile, writeFile } from "node:fs/promises";
import { hashFile, produceArtifact, sha256, stableKey, type Artifact, type StageEvent } from "@gguf-pipeline/core";
import type { LicenseVerdict } from "./judge-license.js";

export interface ShipLicenseFilesParams {
  verdict: LicenseVerdict;
  outDir: string;
  force?: boolean;
  signal?: AbortSignal;
}

export interface ShipLicenseFilesOutput {
  artifacts: Artifact[];
  cached: boolean;
}

/**
 * Puts the license and notice files the verdict names into the output folder (the publish set), beside the GGUFs:
 * copies of the source's and the adapters' files, and the notices the terms require. Each is an artifact like any
 * other: written under a partial name, renamed when complete, and reused while its content is unchanged.
 */
export async function* shipLicenseFiles(params: ShipLicenseFilesParams): AsyncGenerator<StageEvent, ShipLicenseFilesOutput> {
  const sig = params.signal ? { signal: params.signal } : {};
  const artifacts: Artifact[] = [];
  let cached = true;
  for (const file of params.verdict.ship) {
    const hashed = await hashFile({ file: file.from, ...sig });
    const out = yield* produceArtifact({
      stage: "license",
      outDir: params.outDir,
      path: file.to,
      cacheKey: stableKey({ stage: "license", sha256: hashed.sha256, to: file.to }),
      title: `${file.to} (from ${file.from})`,
      force: params.force ?? false,
      ...sig,
      make: async function* (partial) {
        yield { type: "progress", stage: "license", message: `copying ${file.to}` };
        await copyFile(file.from, partial);
      },
    });
    cached &&= out.cached;
    artifacts.push(out.artifact);
  }
  for (const notice of params.verdict.write) {
    const out = yield* produceArtifact({
      stage: "license",
      outDir: params.outDir,
      path: notice.to,
      cacheKey: stableKey({ stage: "license", sha256: sha256(notice.text), to: notice.to }),
      title: `${notice.to} (the notice ${params.verdict.license} requires)`,
      force: params.force ?? false,
      ...sig,
      make: async function* (partial) {
        yield { type: "progress", stage: "license", message: `writing ${notice.to}` };
        await writeFile(partial, notice.text);
      },
    });
    cached &&= out.cached;
    artifacts.push(out.artifact);
  }
  return { artifacts, cached };
}
