import { join } from "node:path";
import { rm } from "node:fs/promises";
import { ggufValue, hashFile, InputError, linesOf, produceArtifact, readGguf, rewriteGgufMetadata, runTool, stableKey, watchInputs, type ConvertOuttype, type ProduceArtifactOutput, type StageEvent } from "@gguf-pipeline/core";
import { baseModelKeys, baseModelName } from "./merge-adapters.js";
import type { SourceModel } from "@gguf-pipeline/convert";
import type { Toolchain } from "@gguf-pipeline/native";
import type { AdapterInfo } from "./inspect-adapter.js";

export interface ConvertAdapterParams {
  adapter: AdapterInfo;
  /** Name in file names and metadata. */
  adapterName: string;
  source: SourceModel;
  outDir: string;
  name: string;
  outtype: ConvertOuttype;
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
}

/**
 * PEFT adapter → GGUF adapter with llama.cpp's convert_lora_to_gguf.py, the recipe's source folder as its base
 * (never a hub lookup). Output: `<name>-<adapter>-LoRA-<TYPE>.gguf`, for llama.cpp `--lora` and Ollama's ADAPTER.
 */
export async function* convertAdapter(params: ConvertAdapterParams): AsyncGenerator<StageEvent, ProduceArtifactOutput> {
  const { adapter, source, toolchain } = params;
  const sig = params.signal ? { signal: params.signal } : {};
  const inputs: { name: string; sha256: string }[] = [];
  const watched = await watchInputs([...adapter.files.map((f) => join(adapter.dir, f)), ...source.files.filter((f) => !f.endsWith(".safetensors")).map((f) => join(source.dir, f))]);
  for (const file of adapter.files) inputs.push({ name: file, sha256: (await hashFile({ file: join(adapter.dir, file), ...sig })).sha256 });
  // The converter reads the base's config (and tokenizer, for some architectures), not its weights.
  const base: { name: string; sha256: string }[] = [];
  for (const file of source.files.filter((f) => !f.endsWith(".safetensors"))) base.push({ name: file, sha256: (await hashFile({ file: join(source.dir, file), ...sig })).sha256 });
  const type = params.outtype === "auto" ? "F16" : params.outtype.toUpperCase();
  return yield* produceArtifact({
    stage: `adapter:${params.adapterName}`,
    outDir: params.outDir,
    path: `${params.name}-${params.adapterName}-LoRA-${type}.gguf`,
    cacheKey: stableKey({ stage: "adapter", inputs, base, outtype: params.outtype, commit: toolchain.commit, python: toolchain.python }),
    title: `Convert adapter ${params.adapterName} → GGUF adapter`,
    force: params.force ?? false,
    ...sig,
    make: async function* (partial) {
      const converted = `${partial}.convert`;
      try {
        for await (const line of linesOf(
          runTool({
            tool: "convert_lora_to_gguf.py",
            command: toolchain.python,
            args: [toolchain.scripts.convertLora, "--base", source.dir, "--outfile", converted, "--outtype", params.outtype === "auto" ? "f16" : params.outtype, adapter.dir],
            cwd: toolchain.llamaCppDir,
            file: adapter.dir,
            ...sig,
          }),
        )) {
          yield { type: "progress", stage: `adapter:${params.adapterName}`, message: line.replace(/^INFO:[^:]+:/, "").slice(0, 120) };
        }
        const moved = await watched.changed();
        if (moved.length > 0) throw new InputError({ file: moved[0] ?? adapter.dir, message: "changed while it was being converted: the output would not be what its cache key says", hint: "run again once the adapter and source folders stay as they are (nothing was kept)" });
        // The converter derives the base's name and URL from base_model_name_or_path, which for a local folder is a
        // path (and a bogus Hub URL): record the real base, and keep local paths out of the tags.
        const header = await readGguf({ file: converted });
        const tags = header.metadata["general.tags"];
        const keptTags = Array.isArray(tags) ? tags.map(String).filter((t) => !t.includes(source.dir) && !(adapter.baseModel && t.includes(adapter.baseModel) && adapter.baseModel.startsWith("/"))) : undefined;
        await rewriteGgufMetadata({
          input: converted,
          output: partial,
          set: {
            "general.name": ggufValue.string(params.adapterName),
            ...baseModelKeys(baseModelName(source)),
            ...(keptTags ? { "general.tags": ggufValue.strings(keptTags) } : {}),
          },
          remove: ["general.base_model.0.repo_url", ...(keptTags?.length === 0 ? ["general.tags"] : [])],
          ...sig,
        });
      } finally {
        await rm(converted, { force: true });
      }
    },
    describe: async (partial) => ({ ggufType: (await readGguf({ file: partial })).fileType ?? type }),
  });
}
