import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hashFile } from "./hash-file.js";
import type { Artifact } from "../report/report-types.js";

/** Bookkeeping inside the output folder: which cache key made each artifact, and the file as it was then. */
export interface OutputState {
  version: 1;
  artifacts: Record<string, StoredArtifact>;
}

export interface StoredArtifact extends Artifact {
  /** mtime (ms) and size when recorded: a file changed since then is not trusted as a cache hit. */
  mtimeMs: number;
  /**
   * ctime (ms) when recorded: any write moves it, even one that puts the mtime back (a byte flipped with `touch -r`),
   * which size and mtime alone would take for the file as it was.
   */
  ctimeMs?: number;
}

export const stateDirName = ".pipeline";

export function stateFile(outDir: string): string {
  return join(outDir, stateDirName, "state.json");
}

export async function readOutputState(outDir: string): Promise<OutputState> {
  try {
    const state = JSON.parse(await readFile(stateFile(outDir), "utf8")) as OutputState;
    if (state.version === 1 && state.artifacts) return state;
  } catch {
    // no state yet, or unreadable: nothing is cached
  }
  return { version: 1, artifacts: {} };
}

/**
 * The artifact recorded for this key (and path), if the file is still exactly as recorded (same size and mtime).
 * This is what makes an unchanged re-run skip work without re-hashing the output.
 */
export async function findCachedArtifact(params: { outDir: string; cacheKey: string; path?: string }): Promise<Artifact | undefined> {
  const state = await readOutputState(params.outDir);
  // Without a path (the name depends on the result, e.g. outtype auto), any artifact made with this key will do.
  const stored = params.path ? state.artifacts[params.path] : Object.values(state.artifacts).find((a) => a.cacheKey === params.cacheKey);
  if (!stored || stored.cacheKey !== params.cacheKey) return undefined;
  return unchanged(params.outDir, stored);
}

/**
 * The artifact, if its file is still exactly as recorded: same size and mtime, or (a folder copied between machines,
 * a CI job's downloaded artifacts) same size and the same content, which is then recorded under its new mtime.
 */
async function unchanged(outDir: string, stored: StoredArtifact): Promise<Artifact | undefined> {
  const file = join(outDir, stored.path);
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size !== stored.bytes) return undefined;
  const { mtimeMs: _mtime, ctimeMs: _ctime, ...artifact } = stored;
  if (info.mtimeMs === stored.mtimeMs && info.ctimeMs === stored.ctimeMs) return artifact;
  if ((await hashFile({ file })).sha256 !== stored.sha256) return undefined;
  await recordArtifact({ outDir, artifact });
  return artifact;
}

let queue: Promise<unknown> = Promise.resolve();

/** Records an artifact after its file got its final name. Writes are serialized and atomic. */
export function recordArtifact(params: { outDir: string; artifact: Artifact }): Promise<void> {
  return update(params.outDir, async (state) => {
    const info = await stat(join(params.outDir, params.artifact.path));
    state.artifacts[params.artifact.path] = { ...params.artifact, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs };
  });
}

/**
 * After the pipeline itself hard-linked recorded files (Modelfile folders, a Hub commit written locally): a new link
 * moves a file's ctime but not its bytes, so the record takes the new ctime instead of the next run hashing the file
 * again. Only a file whose size and mtime are still the recorded ones is refreshed.
 */
export function refreshLinked(params: { outDir: string; paths: string[] }): Promise<void> {
  return update(params.outDir, async (state) => {
    for (const path of params.paths) {
      const stored = state.artifacts[path];
      const info = stored ? await stat(join(params.outDir, path)).catch(() => undefined) : undefined;
      if (stored && info && info.size === stored.bytes && info.mtimeMs === stored.mtimeMs) stored.ctimeMs = info.ctimeMs;
    }
  });
}

function update(outDir: string, change: (state: OutputState) => void | Promise<void>): Promise<void> {
  const next = queue.then(async () => {
    const state = await readOutputState(outDir);
    await change(state);
    const file = stateFile(outDir);
    await mkdir(join(file, ".."), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
    await rename(tmp, file);
  });
  queue = next.catch(() => undefined);
  return next;
}

/** Every artifact recorded under this key (a split quant has several), if all of them are still as recorded. */
export async function findCachedArtifacts(params: { outDir: string; cacheKey: string }): Promise<Artifact[] | undefined> {
  const state = await readOutputState(params.outDir);
  const stored = Object.values(state.artifacts).filter((a) => a.cacheKey === params.cacheKey);
  if (stored.length === 0) return undefined;
  const found: Artifact[] = [];
  for (const entry of stored) {
    const artifact = await unchanged(params.outDir, entry);
    if (!artifact) return undefined;
    found.push(artifact);
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Forgets artifacts (after their files were replaced or removed). */
export function forgetArtifacts(params: { outDir: string; paths: string[] }): Promise<void> {
  return update(params.outDir, (state) => {
    for (const path of params.paths) delete state.artifacts[path];
  });
}
