import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes, ggufLibrary, hashFile, linesOf, runTool, stateDirName } from "@gguf-pipeline/core";
import type { Artifact, StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { PublishError } from "../errors.js";
import { splitPlan } from "./split-plan.js";

export interface SplitForHubParams {
  outDir: string;
  /** A file over the limit (its path is relative to outDir). */
  artifact: Artifact;
  maxFileBytes: number;
  toolchain?: Toolchain;
  stage: string;
  signal?: AbortSignal;
}

/** One part to publish: its artifact (path = its name in the repo) and where it is on disk. */
export interface HubPart {
  artifact: Artifact;
  file: string;
}

interface Manifest {
  source: string;
  maxFileBytes: number;
  parts: Artifact[];
}

const partName = /-(\d{5})-of-(\d{5})\.gguf$/;

/**
 * Splits a file over the Hub's per-file limit with llama-gguf-split into `NAME-00001-of-0000N.gguf` parts, under the
 * output folder's `.pipeline/hub-split/`, for publishing only (the run's own file stays whole). The parts are written
 * in a partial folder and renamed into place once hashed; a manifest makes a re-publish reuse them without re-splitting.
 */
export async function* splitForHub(params: SplitForHubParams): AsyncGenerator<StageEvent, HubPart[]> {
  const { artifact, stage } = params;
  const dir = join(params.outDir, stateDirName, "hub-split", `${artifact.sha256.slice(0, 16)}-${params.maxFileBytes}`);
  const reused = await readManifest(dir, artifact, params.maxFileBytes);
  if (reused) {
    yield { type: "log", stage, level: "info", message: `${artifact.path}: ${reused.length} parts already split for the Hub` };
    return reused;
  }
  if (!params.toolchain) {
    throw new PublishError({ message: `${formatBytes(artifact.bytes)} is over the Hub's per-file limit and must be split, but no llama-gguf-split was given`, exitCode: 2, file: artifact.path, hint: "publish through `pipeline publish`, which brings the toolchain" });
  }
  const source = join(params.outDir, artifact.path);
  const header = await ggufLibrary().gguf(source, { allowLocalFile: true });
  const plan = splitPlan({ file: artifact.path, maxFileBytes: params.maxFileBytes, headerBytes: Number(header.tensorDataOffset), tensorBytes: tensorSizes(header.tensorInfos, Number(header.tensorDataOffset), artifact.bytes) });
  yield { type: "progress", stage, message: `${artifact.path}: splitting into ${plan.parts} parts of at most ${formatBytes(params.maxFileBytes)} (the Hub's per-file limit)` };
  const base = artifact.path.replace(/\.gguf$/, "");
  const partial = join(dir, `.partial-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    const tool = runTool({ tool: "llama-gguf-split", command: params.toolchain.tools.ggufSplit, args: ["--split", ...plan.args, source, join(partial, base)], file: source, ...(params.signal ? { signal: params.signal } : {}) });
    for await (const line of linesOf(tool)) yield { type: "progress", stage, message: `${artifact.path}: ${line.slice(0, 120)}` };
    const parts: Artifact[] = [];
    for (const name of (await readdir(partial)).filter((f) => partName.test(f)).sort()) {
      const [, index = "0", count = "0"] = partName.exec(name) ?? [];
      const hashed = await hashFile({ file: join(partial, name), memoDir: false, ...(params.signal ? { signal: params.signal } : {}) });
      if (hashed.bytes > params.maxFileBytes) throw new PublishError({ message: `llama-gguf-split made a part of ${hashed.bytes} bytes, over the ${params.maxFileBytes}-byte limit`, exitCode: 1, file: name });
      const shard = { index: Number(index), count: Number(count) };
      parts.push({ ...artifact, path: name, sha256: hashed.sha256, bytes: hashed.bytes, ...(artifact.quant ? { quant: { ...artifact.quant, shard } } : {}) });
    }
    for (const part of parts) await rename(join(partial, part.path), join(dir, part.path));
    const manifest: Manifest = { source: artifact.sha256, maxFileBytes: params.maxFileBytes, parts };
    await writeFile(join(dir, "manifest.json.tmp"), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(join(dir, "manifest.json.tmp"), join(dir, "manifest.json"));
    return parts.map((a) => ({ artifact: a, file: join(dir, a.path) }));
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** The parts of an earlier split of the same file at the same limit, if all of them are still there at their size. */
async function readManifest(dir: string, artifact: Artifact, maxFileBytes: number): Promise<HubPart[] | undefined> {
  const manifest = await readFile(join(dir, "manifest.json"), "utf8")
    .then((text) => JSON.parse(text) as Manifest)
    .catch(() => undefined);
  if (!manifest || manifest.source !== artifact.sha256 || manifest.maxFileBytes !== maxFileBytes || manifest.parts.length === 0) return undefined;
  for (const part of manifest.parts) {
    const info = await stat(join(dir, part.path)).catch(() => undefined);
    if (info?.size !== part.bytes) return undefined;
  }
  return manifest.parts.map((a) => ({ artifact: a, file: join(dir, a.path) }));
}

/** Each tensor's bytes in the file, padding included: the distance to the next tensor's data (or to the end). */
function tensorSizes(infos: { name: string; offset: bigint }[], dataOffset: number, fileBytes: number): number[] {
  const byOffset = [...infos].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const size = new Map<string, number>();
  byOffset.forEach((info, i) => {
    const next = byOffset[i + 1];
    size.set(info.name, (next ? Number(next.offset) : fileBytes - dataOffset) - Number(info.offset));
  });
  return infos.map((info) => size.get(info.name) ?? 0);
}
