import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { checkSafetensors, visionTensor, type SourceModel } from "@gguf-pipeline/convert";
import { AdapterError } from "./errors.js";

export interface InspectAdapterParams {
  dir: string;
  source: SourceModel;
}

export interface AdapterInfo {
  dir: string;
  /** Folder name, for file names when the recipe gives none. */
  defaultName: string;
  rank: number;
  alpha: number;
  baseModel: string | undefined;
  targetModules: string[];
  files: string[];
  tensorCount: number;
}

// Config keys that mean the adapter carries more than LoRA matrices, which a GGUF adapter cannot hold.
const unsupportedFlags: [key: string, what: string][] = [
  ["use_dora", "DoRA (use_dora)"],
  ["use_rslora", "rank-stabilised LoRA (use_rslora: its scaling differs from llama.cpp's alpha/r)"],
];

/**
 * Checks a PEFT adapter against the source model before any work: a LoRA (not another PEFT type), no DoRA/rsLoRA,
 * no trained or added embeddings or lm_head (llama.cpp adapters cannot carry them), no lm_head target on a model with
 * tied embeddings, the base it names matches the source, and every LoRA matrix fits the source weight it adapts.
 */
export async function inspectAdapter(params: InspectAdapterParams): Promise<AdapterInfo> {
  const { dir, source } = params;
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new AdapterError({ file: dir, message: "adapter folder does not exist", hint: "point adapters[].path at a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)" });
  const configFile = join(dir, "adapter_config.json");
  if (!existsSync(configFile)) throw new AdapterError({ file: configFile, message: "no adapter_config.json in the adapter folder", hint: "save the adapter with PeftModel.save_pretrained()" });
  const config = (await readJson(configFile)) ?? {};
  const peftType = String(config.peft_type ?? "");
  if (peftType !== "LORA") {
    throw new AdapterError({ file: configFile, message: `PEFT type ${peftType || "(none)"} is not supported: only LoRA adapters are`, hint: "train a LoRA adapter (peft.LoraConfig), or merge this one in PEFT and convert the merged model" });
  }
  for (const [key, what] of unsupportedFlags) {
    if (config[key] === true) throw new AdapterError({ file: configFile, message: `${what} is not supported by llama.cpp adapters`, hint: "merge it in PEFT (merge_and_unload) and convert the merged model instead" });
  }
  const saved = normaliseTargets(config.modules_to_save);
  const trainsEmbeddings = saved.filter((m) => /embed_tokens|lm_head|wte|embed_out|output/.test(m));
  if (trainsEmbeddings.length > 0 || config.trainable_token_indices) {
    throw new AdapterError({
      file: configFile,
      message: `the adapter trains ${trainsEmbeddings.join(", ") || "token embeddings"} (modules_to_save/trainable tokens), which a llama.cpp adapter cannot carry`,
      hint: "merge it in PEFT (merge_and_unload) and convert the merged model, or retrain without modules_to_save for embed_tokens/lm_head",
    });
  }
  const rank = Number(config.r);
  const alpha = Number(config.lora_alpha);
  if (!(rank > 0) || !Number.isFinite(alpha)) {
    throw new AdapterError({ file: configFile, message: `adapter_config.json has no usable r and lora_alpha (r=${String(config.r)}, lora_alpha=${String(config.lora_alpha)})`, hint: "save the adapter with PeftModel.save_pretrained(), which writes both" });
  }
  const added = join(dir, "added_tokens.json");
  if (existsSync(added) && Object.keys((await readJson(added)) ?? {}).length > 0) {
    throw new AdapterError({ file: added, message: "the adapter adds tokens to the vocabulary; llama.cpp adapters cannot change the vocabulary", hint: "merge it in PEFT with the resized embeddings and convert the merged model" });
  }
  const targets = normaliseTargets(config.target_modules);
  const tied = source.config.tie_word_embeddings === true;
  if (tied && targets.includes("lm_head")) {
    throw new AdapterError({ file: configFile, message: "the adapter targets lm_head, but the source model ties lm_head to the token embeddings", hint: "retrain without lm_head in target_modules, or merge it in PEFT and convert the merged model" });
  }
  const baseModel = typeof config.base_model_name_or_path === "string" ? config.base_model_name_or_path : undefined;
  if (baseModel && existsSync(join(baseModel, "config.json"))) {
    const base = (await readJson(join(baseModel, "config.json"))) ?? {};
    for (const key of ["architectures", "hidden_size", "num_hidden_layers", "vocab_size", "intermediate_size"]) {
      if (JSON.stringify(base[key]) !== JSON.stringify(source.config[key])) {
        throw new AdapterError({ file: configFile, message: `the adapter's base (${baseModel}) differs from the source model in ${key} (${JSON.stringify(base[key])} vs ${JSON.stringify(source.config[key])})`, hint: "use the adapter with the model it was trained on" });
      }
    }
  }

  const weights = join(dir, "adapter_model.safetensors");
  if (!existsSync(weights)) {
    const bin = existsSync(join(dir, "adapter_model.bin"));
    throw new AdapterError({ file: weights, message: "no adapter_model.safetensors", hint: bin ? "re-save the adapter with safe_serialization=True" : "save the adapter with PeftModel.save_pretrained()" });
  }
  const header = await checkSafetensors(weights);
  let lora = 0;
  for (const [name, tensor] of Object.entries(header.tensors)) {
    if (/embed_tokens|lm_head/.test(name) && !/lora_[AB]/.test(name)) {
      throw new AdapterError({ file: weights, message: `the adapter holds a full ${name.replace(/^base_model\.model\./, "")} tensor, which a llama.cpp adapter cannot carry`, hint: "merge it in PEFT (merge_and_unload) and convert the merged model" });
    }
    if (/lora_embedding_[AB]/.test(name)) {
      throw new AdapterError({ file: weights, message: "the adapter has LoRA on the token embeddings, which llama.cpp adapters do not support", hint: "retrain without embed_tokens in target_modules, or merge it in PEFT" });
    }
    const match = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(name);
    if (!match?.[1]) continue;
    lora++;
    const baseName = `${match[1]}.weight`;
    if (source.vision && visionTensor.test(baseName)) {
      throw new AdapterError({ file: weights, message: `the adapter adapts ${baseName}, in the vision tower: llama.cpp merges adapters into the text model only, and its projector GGUF takes none`, hint: "train the adapter on the language model only, or merge it in PEFT (merge_and_unload) and convert the merged model" });
    }
    const baseShape = source.shapes[baseName] ?? source.shapes[otherNaming(baseName) ?? ""];
    if (!baseShape) throw new AdapterError({ file: weights, message: `the adapter adapts ${baseName}, which the source model does not have`, hint: "use the adapter with the model it was trained on" });
    const [outDim, inDim] = baseShape;
    const fits = match[2] === "A" ? tensor.shape[1] === inDim : tensor.shape[0] === outDim;
    if (!fits) {
      throw new AdapterError({ file: weights, message: `the adapter's ${name} [${tensor.shape.join(", ")}] does not fit the source's ${baseName} [${baseShape.join(", ")}]`, hint: "use the adapter with the model it was trained on (same size and architecture)" });
    }
  }
  if (lora === 0) throw new AdapterError({ file: weights, message: "no LoRA matrices (lora_A/lora_B) in the adapter", hint: "save a trained LoRA adapter with PeftModel.save_pretrained()" });
  return {
    dir,
    defaultName: basename(dir).replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "adapter",
    rank,
    alpha,
    baseModel,
    targetModules: targets,
    files: ["adapter_config.json", "adapter_model.safetensors"],
    tensorCount: lora,
  };
}

/**
 * The same weight under transformers' other naming of vision-language models: since 4.52 the text model is
 * `model.language_model.*` (and the tower `model.vision_tower.*`), before it was `language_model.model.*`
 * (`vision_tower.*`). Checkpoints and adapters in the wild carry either, and llama.cpp's converters read both.
 */
export function otherNaming(name: string): string | undefined {
  const swaps: [RegExp, string][] = [
    [/^model\.language_model\./, "language_model.model."],
    [/^language_model\.model\./, "model.language_model."],
    [/^language_model\.lm_head\./, "lm_head."],
    [/^model\.(vision_tower|multi_modal_projector|visual)\./, "$1."],
    [/^(vision_tower|multi_modal_projector|visual)\./, "model.$1."],
  ];
  for (const [from, to] of swaps) if (from.test(name)) return name.replace(from, to);
  return undefined;
}

function normaliseTargets(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return [value];
  return [];
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (error) {
    throw new AdapterError({ file, message: `not valid JSON (${(error as Error).message.replace(/\s+/g, " ")})`, hint: "restore the file from the adapter or its base model", cause: error });
  }
}
