import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
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
export async function stageHubFolder(params: StageHubFolderParams): Promise<HubPublication & { changed: boolean }> {
  const relative = join(params.folder, ...params.repo.split("/"));
  const target = join(params.outDir, relative);
  const publication = {
    repo: params.repo,
    endpoint: params.hubUrl,
    branch: params.branch,
    files: params.files.map((f) => ({ path: f.path, action: "add" as const, bytes: f.bytes, sha256: f.sha256 })),
    uploadedBytes: 0,
    folder: relative,
  };
  // An unchanged tree is left alone: relinking would move the run's files' ctime for nothing.
  if (await holdsAlready(target, params.files)) return { ...publication, changed: false };
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
  return { ...publication, changed: true };
}

/** The tree holds exactly these files: the generated ones with the same bytes, the run's as links to them (or copies of their size). */
async function holdsAlready(target: string, files: LocalFile[]): Promise<boolean> {
  const present = await listFiles(target).catch(() => undefined);
  if (!present || present.join("\0") !== files.map((f) => f.path).sort().join("\0")) return false;
  for (const file of files) {
    const here = join(target, file.path);
    const source = file.source;
    if (source.kind === "memory") {
      const bytes = await readFile(here).catch(() => undefined);
      if (!bytes || !bytes.equals(Buffer.from(source.content))) return false;
      continue;
    }
    const [a, b] = await Promise.all([stat(here).catch(() => undefined), stat(source.file).catch(() => undefined)]);
    if (!a || !b || !((a.ino === b.ino && a.dev === b.dev) || (a.size === b.size && a.mtimeMs >= b.mtimeMs))) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)));
    else out.push(`${prefix}${entry.name}`);
  }
  return out.sort();
}
