import { copyFile, link, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HubPublication } from "@gguf-pipeline/core";
import type { LocalFile } from "./plan-commit.js";

export interface StageHubFolderParams {
  outDir: string;
  /** publish.hf.folder: the commits go under <outDir>/<folder>/<repo>/. */
  folder: string;
  repo: string;
  hubUrl: string;
  branch: string;
  files: LocalFile[];
}

/**
 * What a Hub commit would hold, written as the repo's tree instead of sent: the generated files (card, report.json,
 * Ollama's repo-root files) as they are, the run's files as hard links (a copy where links cannot be made). The tree
 * is made under a temporary name and replaces the previous one whole, so it never mixes two runs.
 */
export async function stageHubFolder(params: StageHubFolderParams): Promise<HubPublication> {
  const relative = join(params.folder, ...params.repo.split("/"));
  const target = join(params.outDir, relative);
  const partial = join(dirname(target), `.${params.repo.split("/")[1] ?? "repo"}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  try {
    for (const file of params.files) {
      const to = join(partial, file.path);
      await mkdir(dirname(to), { recursive: true });
      const source = file.source;
      if (source.kind === "memory") await writeFile(to, source.content);
      else await link(source.file, to).catch(() => copyFile(source.file, to));
    }
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return {
    repo: params.repo,
    endpoint: params.hubUrl,
    branch: params.branch,
    files: params.files.map((f) => ({ path: f.path, action: "add" as const, bytes: f.bytes, sha256: f.sha256 })),
    uploadedBytes: 0,
    folder: relative,
  };
}
