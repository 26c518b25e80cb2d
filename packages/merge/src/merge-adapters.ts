import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { rm } from "node:fs/promises";
import { ggufValue, linesOf, produceArtifact, readGguf, rewriteGgufMetadata, runTool, stableKey, type Artifact, type ProduceArtifactOutput, type StageEvent, type TypedValue } from "@gguf-pipeline/core";
import { ggufModelName, type SourceModel } from "@gguf-pipeline/convert";
import type { Toolchain } from "@gguf-pipeline/native";

export interface MergeAdapterInput {
  /** The GGUF adapter (from convertAdapter). */
  artifact: Artifact;
  name: string;
  scale: number;
  rank: number;
  alpha: number;
}

export interface MergeAdaptersParams {
  /** The converted base model (high precision). */
  base: Artifact;
  adapters: MergeAdapterInput[];
  source: SourceModel;
  outDir: string;
  /** The merged model's name: file `<name>-<TYPE>.gguf` and general.name. */
  name: string;
  /** The recipe's metadata.baseModels: listed first in general.base_model.N.*, with the merge's base after them. */
  baseModels?: BaseModelRef[];
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

/** A general.base_model.N entry. */
export interface BaseModelRef {
  name: string;
  organization?: string;
  version?: string;
  url?: string;
  repoUrl?: string;
}

/**
 * Merges the GGUF adapters into the base with llama-export-lora (each with its scale), then stamps the merged
 * header: general.name, general.base_model.0.* (the base) and merge.adapter.N.* (each adapter, its scale, rank,
 * alpha and content hash). Only the header is rewritten; the tensor data is what llama-export-lora wrote.
 */
export async function* mergeAdapters(params: MergeAdaptersParams): AsyncGenerator<StageEvent, ProduceArtifactOutput> {
  const { toolchain } = params;
  const sig = params.signal ? { signal: params.signal } : {};
  const type = params.base.ggufType ?? "F16";
  const bases = combineBaseModels(params.baseModels ?? [], baseModelName(params.source));
  return yield* produceArtifact({
    stage: "merge",
    outDir: params.outDir,
    path: `${params.name}-${type}.gguf`,
    cacheKey: stableKey({ stage: "merge", base: params.base.sha256, bases, adapters: params.adapters.map((a) => ({ sha256: a.artifact.sha256, scale: a.scale, name: a.name })), name: params.name, commit: toolchain.commit }),
    title: `Merge ${params.adapters.map((a) => `${a.name}×${a.scale}`).join(" + ")} into ${params.base.path}`,
    force: params.force ?? false,
    // The merged model, and one intermediate export at a time beside it.
    needBytes: params.base.bytes * 2,
    ...sig,
    make: async function* (partial) {
      // llama-export-lora merges several adapters in one call only if they adapt the same tensors; merging is
      // additive (W + Σ scale·ΔW), so one adapter per call is the same sum and works for any set.
      const steps = params.adapters.map((_, i) => `${partial}.export-${i}`);
      const exported = steps.at(-1) ?? `${partial}.export`;
      try {
        let input = params.base.path;
        for (const [i, adapter] of params.adapters.entries()) {
          const output = steps[i] ?? exported;
          yield { type: "progress", stage: "merge", message: `llama-export-lora ${adapter.name}×${adapter.scale}` };
          for await (const line of linesOf(
            runTool({
              tool: "llama-export-lora",
              command: toolchain.tools.exportLora,
              args: ["-m", input, "--lora-scaled", `${adapter.artifact.path}:${adapter.scale}`, "-o", basename(output), "-t", String(availableParallelism())],
              cwd: params.outDir,
              file: join(params.outDir, adapter.artifact.path),
              ...sig,
            }),
          )) {
            yield { type: "progress", stage: "merge", message: line.slice(0, 120) };
          }
          if (i > 0) await rm(join(params.outDir, basename(input)), { force: true });
          input = basename(output);
        }
        const base = await readGguf({ file: join(params.outDir, params.base.path) });
        const fileType = base.metadata["general.file_type"];
        const set: Record<string, TypedValue> = {
          "general.name": ggufValue.string(ggufModelName({ name: params.name, architecture: params.source.architecture, files: params.source.files })),
          // llama-export-lora labels its output F16 whatever the tensors are; the merged tensors keep the base's type.
          ...(typeof fileType === "number" ? { "general.file_type": ggufValue.uint32(fileType) } : {}),
          ...baseModelKeys(bases),
          "merge.adapter_count": ggufValue.uint32(params.adapters.length),
        };
        params.adapters.forEach((a, i) => {
          set[`merge.adapter.${i}.name`] = ggufValue.string(a.name);
          set[`merge.adapter.${i}.scale`] = ggufValue.float32(a.scale);
          set[`merge.adapter.${i}.rank`] = ggufValue.uint32(a.rank);
          set[`merge.adapter.${i}.alpha`] = ggufValue.float32(a.alpha);
          set[`merge.adapter.${i}.sha256`] = ggufValue.string(a.artifact.sha256);
        });
        yield { type: "progress", stage: "merge", message: "stamping general.name, general.base_model.*, merge.adapter.*" };
        // The converter stamped the recipe's base models into the base; they are replaced whole, so none is left over.
        const stale = Object.keys((await readGguf({ file: exported })).metadata).filter((k) => k.startsWith("general.base_model.") && !(k in set));
        await rewriteGgufMetadata({ input: exported, output: partial, set, remove: stale, ...sig });
      } finally {
        for (const step of steps) await rm(step, { force: true });
      }
    },
    describe: async (partial) => ({ ggufType: (await readGguf({ file: partial })).fileType ?? type }),
  });
}

/** general.base_model.count and general.base_model.N.* for each base. */
export function baseModelKeys(bases: BaseModelRef | BaseModelRef[]): Record<string, TypedValue> {
  const list = Array.isArray(bases) ? bases : [bases];
  const keys: Record<string, TypedValue> = { "general.base_model.count": ggufValue.uint32(list.length) };
  list.forEach((base, i) => {
    const fields: [string, string | undefined][] = [["name", base.name], ["organization", base.organization], ["version", base.version], ["url", base.url], ["repo_url", base.repoUrl]];
    for (const [field, value] of fields) if (value) keys[`general.base_model.${i}.${field}`] = ggufValue.string(value);
  });
  return keys;
}

/** The recipe's base models, then the merge's own base unless the recipe already names it (by name or repository). */
export function combineBaseModels(declared: BaseModelRef[], mergeBase: BaseModelRef): BaseModelRef[] {
  const same = (a: BaseModelRef) => a.name.toLowerCase() === mergeBase.name.toLowerCase() || (Boolean(a.repoUrl) && a.repoUrl === mergeBase.repoUrl);
  return declared.some(same) ? declared : [...declared, mergeBase];
}

/** The base model's name for metadata: its Hub id when config.json knows it, else the folder's name. */
export function baseModelName(source: SourceModel): { name: string; repoUrl?: string } {
  const id = typeof source.config._name_or_path === "string" ? source.config._name_or_path : "";
  if (/^[\w.-]+\/[\w.-]+$/.test(id) && !id.startsWith(".")) return { name: id.split("/")[1] ?? id, repoUrl: `https://huggingface.co/${id}` };
  return { name: basename(source.dir) };
}
