import { readdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  ensureFreeSpace,
  findCachedArtifacts,
  forgetArtifacts,
  hashFile,
  linesOf,
  readGguf,
  recordArtifact,
  runTool,
  stableKey,
  tempPathFor,
  type Artifact,
  type MixFacts,
  type StageEvent,
} from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { nominalQuantBytes } from "./nominal-size.js";
import type { QuantJob } from "./quant-jobs.js";

export interface QuantizeOneParams {
  job: QuantJob;
  /** The high-precision intermediate every quant is made from. */
  input: Artifact;
  /** Present when the job uses an importance matrix. */
  imatrix?: Artifact;
  outDir: string;
  name: string;
  threads: number;
  /** Split files larger than this (bytes) with llama-gguf-split, using `splitSpec` as its --split-max-size. */
  split?: { bytes: number; spec: string };
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
  /** Called once its tools have exited and only reading their output (header, hash) remains. */
  onToolsDone?: () => void;
}

export interface QuantizeOneOutput {
  type: string;
  artifacts: Artifact[];
  cached: boolean;
  seconds: number;
}

/**
 * The exact llama-quantize command line for a job, run in the output folder with file names relative to it:
 * `llama-quantize [options] [--imatrix NAME.imatrix.gguf] INPUT.gguf OUTPUT.gguf TYPE THREADS`.
 * Relative names keep local paths out of the quant's metadata (quantize.imatrix.file).
 */
export function quantizeCommand(params: { job: QuantJob; input: string; output: string; imatrix?: string; threads: number }): string[] {
  return [...params.job.options, ...(params.imatrix ? ["--imatrix", params.imatrix] : []), params.input, params.output, params.job.mix?.ftype ?? params.job.type, String(params.threads)];
}

/** What makes a quant what it is: type, options, the intermediate's and the imatrix's content, the split, the tool. */
export function quantCacheKey(params: { job: QuantJob; input: Pick<Artifact, "sha256">; imatrix?: Pick<Artifact, "sha256" | "path">; split?: string; commit: string }): string {
  return stableKey({
    stage: "quantize",
    type: params.job.type,
    options: params.job.options,
    ...(params.job.mix ? { mix: { ftype: params.job.mix.ftype, tensorTypes: params.job.mix.tensorTypes?.sha256 ?? null } } : {}),
    input: params.input.sha256,
    imatrix: params.imatrix ? { sha256: params.imatrix.sha256, name: params.imatrix.path } : null,
    split: params.split ?? null,
    commit: params.commit,
  });
}

/** One rung: llama-quantize from the intermediate, then llama-gguf-split when the file is over the split size. */
export async function* quantizeOne(params: QuantizeOneParams): AsyncGenerator<StageEvent, QuantizeOneOutput> {
  const started = Date.now();
  const { job } = params;
  const stage = `quantize:${job.type}`;
  const sig = params.signal ? { signal: params.signal } : {};
  const base = `${params.name}-${job.type}`;
  const cacheKey = quantCacheKey({ job, input: params.input, ...(params.imatrix ? { imatrix: params.imatrix } : {}), ...(params.split ? { split: params.split.spec } : {}), commit: params.toolchain.commit });
  yield { type: "start", stage, title: `${job.type}` };
  // A rung of the intermediate's own type (F16 from an f16 conversion, say) is the intermediate itself: it is not
  // made again, and above all not written over the file every other rung is made from.
  if (`${base}.gguf` === params.input.path) {
    yield { type: "cache-hit", stage, key: params.input.cacheKey, message: `${params.input.path} is the intermediate itself` };
    yield { type: "artifact", stage, artifact: params.input };
    const seconds = (Date.now() - started) / 1000;
    yield { type: "done", stage, title: `${job.type} — the intermediate itself`, seconds, cached: true };
    return { type: job.type, artifacts: [params.input], cached: true, seconds };
  }
  if (!params.force) {
    const artifacts = await findCachedArtifacts({ outDir: params.outDir, cacheKey });
    if (artifacts) {
      yield { type: "cache-hit", stage, key: cacheKey, message: `${artifacts.map((a) => a.path).join(", ")} up to date (cache hit)` };
      // The same tensor types may have been made for another target (a size, then a budget): the facts are this job's.
      const found = job.mix ? artifacts.map((a) => (a.quant ? { ...a, quant: { ...a.quant, ...mixFacts(job) } } : a)) : artifacts;
      for (const artifact of found) yield { type: "artifact", stage, artifact };
      const seconds = (Date.now() - started) / 1000;
      yield { type: "done", stage, title: `${job.type} — cached`, seconds, cached: true };
      return { type: job.type, artifacts: found, cached: true, seconds };
    }
  }

  // The input's weights are counted from its size and type (an F32 input counted as 16-bit made every estimate twice too large).
  // Held while its tools write, so that rungs running beside it count it (--jobs): each may fit alone and not together.
  const partial = tempPathFor(join(params.outDir, `${base}.gguf`));
  const space = await ensureFreeSpace({ dir: params.outDir, bytes: nominalQuantBytes({ type: job.mix?.ftype ?? job.type, from: { type: params.input.ggufType ?? "F16", bytes: params.input.bytes } }) * (params.split ? 2 : 1), what: `${base}.gguf`, hold: { file: partial } });
  const toolsDone = () => {
    space.release();
    params.onToolsDone?.();
  };
  const renamedTo: string[] = [];
  let done = false;
  const run = runTool({
    tool: `llama-quantize ${job.type}`,
    command: params.toolchain.tools.quantize,
    args: quantizeCommand({ job, input: params.input.path, output: basename(partial), ...(params.imatrix ? { imatrix: params.imatrix.path } : {}), threads: params.threads }),
    cwd: params.outDir,
    file: join(params.outDir, params.input.path),
    ...sig,
  });
  try {
    for (;;) {
      const next = await run.next();
      if (next.done) break;
      // "[  12/  21]  blk.0.attn_q.weight - [64, 64, 1, 1], type = f32, converting to q8_0 .. size = ..."
      const tensor = /^\[\s*(\d+)\/\s*(\d+)\]\s+(\S+)/.exec(next.value);
      if (tensor) yield { type: "progress", stage, message: `${tensor[3]}`, ratio: Number(tensor[1]) / Number(tensor[2]) };
    }
    // Without a split size no tool follows; with one, llama-gguf-split may still run.
    if (!params.split) toolsDone();
    const header = await readGguf({ file: partial });
    const bitsPerWeight = ((header.bytes - header.tensorDataOffset) * 8) / header.parameterCount;
    const quant = { type: job.type, bitsPerWeight: Math.round(bitsPerWeight * 1000) / 1000, ...(params.imatrix ? { imatrix: params.imatrix.path } : {}), ...mixFacts(job) };

    // Either one file or shards; the files only get final names once all of them exist.
    const pieces: { from: string; to: string; shard?: { index: number; count: number } }[] = [];
    if (params.split && header.bytes > params.split.bytes) {
      const prefix = basename(partial);
      yield { type: "progress", stage, message: `splitting at ${params.split.spec}` };
      for await (const line of linesOf(runTool({ tool: "llama-gguf-split", command: params.toolchain.tools.ggufSplit, args: ["--split", "--split-max-size", params.split.spec, basename(partial), prefix], cwd: params.outDir, ...sig }))) {
        yield { type: "progress", stage, message: line.slice(0, 120) };
      }
      const shards = (await readdir(params.outDir)).filter((f) => f.startsWith(`${prefix}-`) && /-\d{5}-of-\d{5}\.gguf$/.test(f)).sort();
      for (const shard of shards) {
        const match = /-(\d{5})-of-(\d{5})\.gguf$/.exec(shard);
        pieces.push({ from: shard, to: `${base}-${match?.[1]}-of-${match?.[2]}.gguf`, shard: { index: Number(match?.[1]), count: Number(match?.[2]) } });
      }
      await rm(partial, { force: true });
    } else {
      pieces.push({ from: basename(partial), to: `${base}.gguf` });
    }
    if (params.split) toolsDone();

    const artifacts: Artifact[] = [];
    for (const piece of pieces) {
      const hashed = await hashFile({ file: join(params.outDir, piece.from), memoDir: false, ...sig });
      artifacts.push({ path: piece.to, stage: "quantize", sha256: hashed.sha256, bytes: hashed.bytes, ggufType: job.type, cacheKey, quant: { ...quant, ...(piece.shard ? { shard: piece.shard } : {}) } });
    }
    // Replace whatever this type was before (a single file or other shards), then give the new files their names.
    const old = (await readdir(params.outDir)).filter((f) => f === `${base}.gguf` || new RegExp(`^${escape(base)}-\\d{5}-of-\\d{5}\\.gguf$`).test(f));
    for (const file of old) await rm(join(params.outDir, file), { force: true });
    await forgetArtifacts({ outDir: params.outDir, paths: old });
    for (const piece of pieces) {
      await rename(join(params.outDir, piece.from), join(params.outDir, piece.to));
      renamedTo.push(piece.to);
    }
    done = true;
    for (const artifact of artifacts) {
      await recordArtifact({ outDir: params.outDir, artifact });
      yield { type: "artifact", stage, artifact };
    }
    const seconds = (Date.now() - started) / 1000;
    const bytes = artifacts.reduce((sum, a) => sum + a.bytes, 0);
    yield { type: "done", stage, title: `${job.type} — ${(bytes / 1e6).toFixed(2)} MB, ${quant.bitsPerWeight.toFixed(2)} bpw, ${seconds.toFixed(1)} s`, seconds, cached: false };
    return { type: job.type, artifacts, cached: false, seconds };
  } finally {
    space.release();
    if (!done) {
      await run.return({ exitCode: -1, stdout: "", stdoutBytes: Buffer.alloc(0), tail: [], lines: [] });
      await rm(partial, { force: true });
      // Shards llama-gguf-split wrote (complete or not), and any of a set that only partly got its final names.
      const prefix = `${basename(partial)}-`;
      for (const file of await readdir(params.outDir).catch(() => [] as string[])) if (file.startsWith(prefix)) await rm(join(params.outDir, file), { force: true });
      for (const file of renamedTo) await rm(join(params.outDir, file), { force: true });
    }
  }
}


function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A mix's facts for report.json: what it was asked to be, its tensor-type file, what the allocation predicted. */
function mixFacts(job: QuantJob): { mix?: MixFacts } {
  const m = job.mix;
  if (!m?.tensorTypes) return {};
  return { mix: { targetBytes: m.target.bytes, targetBpw: Math.round(m.target.bpw * 1000) / 1000, ...(m.target.fit ? { fit: m.target.fit } : {}), tensorTypes: m.tensorTypes.path, predictedBytes: m.tensorTypes.predictedBytes, predictedKld: m.tensorTypes.predictedKld } };
}
