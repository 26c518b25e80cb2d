import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CanceledError,
  ensureFreeSpace,
  findCachedArtifact,
  formatBytes,
  hashFile,
  InputError,
  hashGrowingFile,
  preloadGgufLibrary,
  readGguf,
  recordArtifact,
  runTool,
  stableKey,
  stateDirName,
  tempPathFor,
  watchInputs,
  type Artifact,
  type ConvertOuttype,
  type StageEvent,
} from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import type { SourceModel } from "./inspect-source.js";
import { metadataOverride, type RecipeMetadata } from "./metadata-override.js";
import { ggufModelName } from "./gguf-model-name.js";
import { planConvert } from "./plan-convert.js";
import { shadowSource } from "./shadow-source.js";

export interface ConvertModelParams {
  source: SourceModel;
  outDir: string;
  /** Base of the output name: `<name>-<TYPE>.gguf`; also the GGUF general.name. */
  name: string;
  outtype: ConvertOuttype;
  /** The recipe's metadata, stamped into general.* (via the converter's --metadata; the license via the card it reads). */
  metadata?: RecipeMetadata;
  toolchain: Toolchain;
  /**
   * The vision-language model's projector (`--mmproj`) instead of its text model: `mmproj-<name>-<TYPE>.gguf`, stage
   * `mmproj`, as llama-server -hf, LM Studio and the Hub's file list expect it.
   */
  mmproj?: boolean;
  /** Redo the conversion even when the cache says the output is current. */
  force?: boolean;
  signal?: AbortSignal;
  /**
   * Called once the converter has started. Its start-up (Python importing torch and transformers, seconds) leaves a
   * core idle: a caller loads there what its later steps need. It must not throw.
   */
  whileConverting?: () => void;
}

export interface ConvertOutput {
  artifact: Artifact;
  cached: boolean;
  seconds: number;
}

/**
 * Hugging Face safetensors → GGUF with llama.cpp's convert_hf_to_gguf.py. The output is written under a hidden
 * partial name and renamed when complete; an unchanged input (by content), outtype and converter is a cache hit.
 */
export async function* convertModel(params: ConvertModelParams): AsyncGenerator<StageEvent, ConvertOutput> {
  const started = Date.now();
  const { source, toolchain, outtype } = params;
  const stage = params.mmproj ? "mmproj" : "convert";
  const prefix = params.mmproj ? "mmproj-" : "";
  yield { type: "start", stage, title: params.mmproj ? `Projector of ${params.name} → GGUF (${outtype})` : `Convert ${params.name} → GGUF (${outtype})` };

  const inputs: { name: string; sha256: string }[] = [];
  // What the key says the converter reads must be what it reads: a source file written or replaced meanwhile fails it.
  const watched = await watchInputs(source.files.map((file) => join(source.dir, file)));
  for (const file of source.files) {
    const hashed = await hashFile({ file: join(source.dir, file), ...(params.signal ? { signal: params.signal } : {}) });
    if (!hashed.memoized) yield { type: "progress", stage, message: `hashed ${file}` };
    inputs.push({ name: file, sha256: hashed.sha256 });
  }
  const converter = await converterIdentity({ source: toolchain.source, commit: toolchain.commit, llamaCppDir: toolchain.llamaCppDir, python: toolchain.python });
  const cacheKey = convertCacheKey({ converter, outtype, name: params.name, inputs, ...(params.metadata ? { metadata: params.metadata } : {}), ...(params.mmproj ? { mmproj: true } : {}) });

  if (!params.force) {
    const artifact = await findCachedArtifact({ outDir: params.outDir, cacheKey });
    if (artifact) {
      yield { type: "cache-hit", stage, key: cacheKey, message: `${artifact.path} is up to date (cache hit)` };
      yield { type: "artifact", stage, artifact };
      const seconds = (Date.now() - started) / 1000;
      yield { type: "done", stage, title: `${artifact.path} — cached (inputs, outtype and converter unchanged)`, seconds, cached: true };
      return { artifact, cached: true, seconds };
    }
  }

  await ensureFreeSpace({ dir: params.outDir, bytes: planConvert({ source, outtype }).estimatedBytes, what: `converting ${params.name}` });
  await mkdir(params.outDir, { recursive: true });
  const provisional = join(params.outDir, `${prefix}${params.name}-${outtype === "auto" ? "auto" : outtype.toUpperCase()}.gguf`);
  const partial = tempPathFor(provisional);
  // The converter's inputs of our making go in the state folder, named with our pid: what a run killed outright leaves
  // there, the folder's next holder removes (removeOrphanPartials), instead of it staying in /tmp for good.
  const stateDir = join(params.outDir, stateDirName);
  const madeStateDir = (await mkdir(stateDir, { recursive: true })) !== undefined;
  const overrideFile = params.metadata ? join(stateDir, `convert-metadata-${randomUUID().slice(0, 8)}.${process.pid}.tmp`) : undefined;
  if (overrideFile && params.metadata) await writeFile(overrideFile, JSON.stringify(metadataOverride(params.metadata)));
  // The license goes in through the card the converter reads, so its output needs no second pass (shadow-source.ts).
  const license = params.metadata?.license;
  // So does a config.json the converter cannot read as it is (source.configPatch).
  const input = license || source.configPatch ? await shadowSource({ dir: source.dir, under: stateDir, ...(license ? { license: { id: license, ...(params.metadata?.licenseName ? { name: params.metadata.licenseName } : {}), ...(params.metadata?.licenseLink ? { link: params.metadata.licenseLink } : {}) } } : {}), ...(source.configPatch ? { config: source.configPatch } : {}) }) : undefined;
  let renamed = false;
  // gguf-py writes front to back: the output is hashed as it is written, not read once more after the converter exits.
  const following = hashGrowingFile({ file: partial });
  const run = runTool({
    tool: "convert_hf_to_gguf.py",
    command: toolchain.python,
    args: [toolchain.scripts.convertHf, input?.dir ?? source.dir, "--outfile", partial, "--outtype", outtype, "--model-name", ggufModelName({ name: params.name, architecture: source.architecture, files: source.files }), ...(overrideFile ? ["--metadata", overrideFile] : []), ...(params.mmproj ? ["--mmproj"] : [])],
    cwd: toolchain.llamaCppDir,
    file: source.dir,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  try {
    // The generator's first step spawns the converter; what can wait loads while it starts.
    const first = run.next();
    preloadGgufLibrary();
    params.whileConverting?.();
    try {
      for (let line = await first; !line.done; line = await run.next()) {
        const event = progressOf(line.value, stage);
        if (event) yield event;
      }
    } catch (error) {
      // The converter may have failed on what it read while a file was being replaced: that is the cause to show.
      const moved = await watched.changed();
      if (moved.length > 0 && !(error instanceof CanceledError)) throw changedWhileConverting(moved, source.dir);
      throw error;
    }
    const moved = await watched.changed();
    if (moved.length > 0) throw changedWhileConverting(moved, source.dir);
    // The follower hashes the last bytes in its thread while this one reads the header.
    const [header, followed] = await Promise.all([readGguf({ file: partial }), following.finish()]);
    const type = header.fileType ?? outtype.toUpperCase();
    const hashed = followed ?? (await hashFile({ file: partial, memoDir: false, ...(params.signal ? { signal: params.signal } : {}) }));
    await rename(partial, join(params.outDir, `${prefix}${params.name}-${type}.gguf`));
    renamed = true;
    const artifact: Artifact = { path: `${prefix}${params.name}-${type}.gguf`, stage, sha256: hashed.sha256, bytes: hashed.bytes, ggufType: type, cacheKey };
    await recordArtifact({ outDir: params.outDir, artifact });
    yield { type: "artifact", stage, artifact };
    const seconds = (Date.now() - started) / 1000;
    yield { type: "done", stage, title: `${artifact.path} — ${formatBytes(artifact.bytes)}, ${seconds.toFixed(1)} s`, seconds, cached: false };
    return { artifact, cached: false, seconds };
  } finally {
    if (!renamed) {
      await following.stop();
      await run.return({ exitCode: -1, stdout: "", stdoutBytes: Buffer.alloc(0), tail: [], lines: [] });
      await rm(partial, { force: true });
    }
    if (overrideFile) await rm(overrideFile, { force: true });
    await input?.remove();
    // A failed first conversion leaves the output folder as empty as it found it (rmdir: only while nothing is in it).
    if (!renamed && madeStateDir) await rmdir(stateDir).catch(() => undefined);
  }
}

function changedWhileConverting(moved: string[], dir: string): InputError {
  return new InputError({ file: moved[0] ?? dir, message: `changed while it was being converted${moved.length > 1 ? ` (with ${moved.length - 1} more)` : ""}: the output would not be what its cache key says`, hint: "run again once the source folder stays as it is (nothing was kept)" });
}

export interface ConvertCacheKeyParams {
  /** The converter's identity: llama.cpp commit, or the script's hash for an unversioned tree. */
  converter: string;
  outtype: ConvertOuttype;
  name: string;
  /** Every file in the source folder with its content hash. */
  inputs: { name: string; sha256: string }[];
  metadata?: RecipeMetadata;
  /** The projector, not the text model. */
  mmproj?: boolean;
}

/** What makes a conversion's output what it is; any change to these redoes it. */
export function convertCacheKey(params: ConvertCacheKeyParams): string {
  return stableKey({ stage: "convert", ...params });
}

export interface ConverterIdentityParams {
  source: "managed" | "user";
  commit: string;
  llamaCppDir: string;
  /** The interpreter: another Python (other torch/transformers) may convert differently. */
  python: string;
}

/**
 * What identifies the converter for the cache. The managed build is its pinned commit and venv; a user's tree may
 * carry local edits, so its converter script and gguf-py writer are hashed too.
 */
export async function converterIdentity(params: ConverterIdentityParams): Promise<string> {
  if (params.source === "managed") return `${params.commit}|${params.python}`;
  const files = ["convert_hf_to_gguf.py", "gguf-py/gguf/gguf_writer.py", "conversion/base.py"];
  const hashes: string[] = [];
  for (const file of files) hashes.push(await hashFile({ file: join(params.llamaCppDir, file) }).then((h) => h.sha256, () => "absent"));
  return `${params.commit}|${params.python}|${hashes.join(",")}`;
}

/** The converter's lines as progress: tqdm's "Writing: 42%|" becomes a ratio, the rest is shown as is. */
function progressOf(line: string, stage: string): StageEvent | undefined {
  const bar = /^Writing:\s+(\d+)%\|[^|]*\|\s*(\S+)\/(\S+)/.exec(line);
  if (bar) return { type: "progress", stage, message: `writing ${bar[2]}/${bar[3]}`, ratio: Number(bar[1]) / 100 };
  const info = /^INFO:[^:]+:(.*)$/.exec(line);
  const text = (info?.[1] ?? line).trim();
  return text ? { type: "progress", stage, message: text.length > 120 ? `${text.slice(0, 117)}…` : text } : undefined;
}
