import { statfs } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { cacheRoot, findCachedArtifact, findCachedArtifacts, hashFile } from "@gguf-pipeline/core";
import { convertCacheKey, converterIdentity, formatBytes, planConvert } from "@gguf-pipeline/convert";
import { describeToolchain } from "@gguf-pipeline/native";
import { calibrationText, imatrixCacheKey, nominalQuantBytes, parseSplitSize, quantCacheKey, quantJobs } from "@gguf-pipeline/quantize";
import { prepareRecipe } from "./prepare-recipe.js";

export interface PlanCommandParams {
  file: string;
  outDir?: string;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface PlannedStep {
  stage: string;
  what: string;
  cached: boolean;
  /** Bytes this step will write if it runs. */
  bytes: number;
}

export interface DiskNeed {
  dir: string;
  needBytes: number;
  freeBytes: number;
}

export interface PlanCommandOutput {
  steps: PlannedStep[];
  /** The output folder's file system: what the stages write. */
  output: DiskNeed;
  /** The cache's file system: the llama.cpp build and the Python env, first run only. */
  cache: DiskNeed;
  enoughSpace: boolean;
}

/** `pipeline plan RECIPE`: what would run, what is cached, and the disk space needed against what is free. */
export async function planCommand(params: PlanCommandParams): Promise<PlanCommandOutput> {
  const { loaded, source, override, merge, adapters, metadata, license } = await prepareRecipe(params);
  // With adapters merged, the base is converted as `<name>-base` and the quants come from the merged model.
  const convertName = merge ? `${loaded.name}-base` : loaded.name;
  const toolchain = await describeToolchain({ ...(params.env ? { env: params.env } : {}), override });
  const steps: PlannedStep[] = [];
  if (!toolchain.llamaCpp.ready || !toolchain.python.ready) {
    steps.push({
      stage: "toolchain",
      what: [!toolchain.llamaCpp.ready && `build llama.cpp ${toolchain.llamaCpp.commit.slice(0, 8)} (~5 min)`, !toolchain.python.ready && "create the Python env (torch: several GB, once)"].filter(Boolean).join("; "),
      cached: false,
      // A CPU build of the tools is a few hundred MB; the torch wheel set is several GB. Both land in the cache folder.
      bytes: (toolchain.llamaCpp.ready ? 0 : 400_000_000) + (toolchain.python.ready ? 0 : 6_000_000_000),
    });
  } else {
    steps.push({ stage: "toolchain", what: `llama.cpp ${toolchain.llamaCpp.commit.slice(0, 8)} (${toolchain.source})`, cached: true, bytes: 0 });
  }
  const inputs = [];
  for (const file of source.files) inputs.push({ name: file, sha256: (await hashFile({ file: join(source.dir, file) })).sha256 });
  const converter = await converterIdentity({ source: toolchain.source, commit: toolchain.llamaCpp.commit, llamaCppDir: toolchain.llamaCpp.sourceDir, python: toolchain.python.path });
  const cacheKey = convertCacheKey({ converter, outtype: loaded.outtype, name: convertName, inputs, metadata });
  const converted = params.force ? undefined : await findCachedArtifact({ outDir: loaded.outDir, cacheKey });
  const plan = planConvert({ source, outtype: loaded.outtype });
  steps.push({ stage: "convert", what: `${source.dir} → ${convertName}-${plan.type}.gguf (~${formatBytes(plan.estimatedBytes)})`, cached: Boolean(converted), bytes: converted ? 0 : plan.estimatedBytes });
  for (const adapter of adapters) steps.push({ stage: "adapter", what: `${adapter.info.dir} → ${loaded.name}-${adapter.name}-LoRA-${plan.type}.gguf`, cached: false, bytes: 0 });
  if (merge) steps.push({ stage: "merge", what: `llama-export-lora ${adapters.map((a) => `${a.name}×${a.scale}`).join(" + ")} → ${loaded.name}-${plan.type}.gguf`, cached: false, bytes: plan.estimatedBytes });

  // Quants are cached only if what they are made from is: the intermediate (and the imatrix, for those that use one).
  const jobs = quantJobs(loaded.recipe);
  // (Adapter and merge steps are shown as to-run: their cache is decided at run time.)
  let imatrix: Awaited<ReturnType<typeof findCachedArtifact>>;
  if (jobs.some((j) => j.useImatrix)) {
    const text = calibrationText(loaded);
    const im = loaded.recipe.imatrix;
    const key = converted && !merge
      ? imatrixCacheKey({ input: converted.sha256, text: (await hashFile({ file: text })).sha256, textName: basename(text), ctx: im?.ctx ?? 512, ...(im?.chunks ? { chunks: im.chunks } : {}), commit: toolchain.llamaCpp.commit })
      : undefined;
    imatrix = key && !params.force ? await findCachedArtifact({ outDir: loaded.outDir, cacheKey: key, path: `${loaded.name}.imatrix.gguf` }) : undefined;
    steps.push({ stage: "imatrix", what: `llama-imatrix on ${basename(text)} → ${loaded.name}.imatrix.gguf`, cached: Boolean(imatrix), bytes: imatrix ? 0 : 10_000_000 });
  }
  const split = loaded.recipe.split?.maxSize;
  for (const job of jobs) {
    const usable = !merge && converted && (!job.useImatrix || imatrix);
    const key = usable ? quantCacheKey({ job, input: converted, ...(job.useImatrix && imatrix ? { imatrix } : {}), ...(split && parseSplitSize(split) ? { split } : {}), commit: toolchain.llamaCpp.commit }) : undefined;
    const done = key && !params.force ? await findCachedArtifacts({ outDir: loaded.outDir, cacheKey: key }) : undefined;
    const bytes = nominalQuantBytes({ type: job.type, parameters: source.parameterCount });
    steps.push({ stage: "quantize", what: `${loaded.name}-${job.type}.gguf (~${formatBytes(bytes)})${job.useImatrix ? " with imatrix" : ""}`, cached: Boolean(done), bytes: done ? 0 : bytes });
  }
  const licenseFiles = [...license.ship, ...license.write].map((f) => f.to);
  steps.push({ stage: "license", what: `${license.license} (from ${license.from})${licenseFiles.length ? `; ships ${licenseFiles.join(", ")}` : ""}`, cached: licenseFiles.length === 0, bytes: 0 });
  if (loaded.recipe.evaluate && jobs.length > 0) steps.push({ stage: "evaluate", what: "llama-perplexity on the reference and each quant (cached per file)", cached: false, bytes: 0 });
  const sum = (stage: (s: PlannedStep) => boolean) => steps.filter(stage).reduce((total, s) => total + s.bytes, 0);
  const output = { dir: loaded.outDir, needBytes: sum((s) => s.stage !== "toolchain"), freeBytes: await freeSpace(loaded.outDir) };
  const cache = { dir: toolchain.cacheRoot, needBytes: sum((s) => s.stage === "toolchain"), freeBytes: await freeSpace(cacheRoot()) };
  return { steps, output, cache, enoughSpace: output.freeBytes >= output.needBytes && cache.freeBytes >= cache.needBytes };
}

async function freeSpace(path: string): Promise<number> {
  // The output folder may not exist yet: ask the nearest existing parent.
  let dir = path;
  for (;;) {
    try {
      const info = await statfs(dir);
      return info.bavail * info.bsize;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return 0;
      dir = parent;
    }
  }
}
