import { open, readdir, readFile, readlink, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { suggest } from "@gguf-pipeline/core";
import { SourceModelError } from "./errors.js";
import { pinnedConverterMmprojArchitectures } from "./supported-architectures.js";

export interface InspectSourceParams {
  dir: string;
  /** Architectures the converter supports; the source's `architectures[0]` must be one of them. */
  architectures: readonly string[];
  /** Architectures whose projector the converter exports (`--mmproj`); default: the pinned converter's. */
  mmprojArchitectures?: readonly string[];
  /** Named in errors so the user knows what to edit (e.g. the recipe file). */
  recipeFile?: string;
}

export interface SourceModel {
  dir: string;
  /** Every weight's shape, by safetensors name (e.g. model.layers.0.self_attn.q_proj.weight). */
  shapes: Record<string, number[]>;
  architecture: string;
  /**
   * A vision-language model whose projector the converter exports: it has a `vision_config` and its architecture is
   * in the converter's projector table. Its text model converts as any other; the projector goes to its own GGUF.
   */
  vision?: { architecture: string };
  config: Record<string, unknown>;
  /**
   * Keys the converter needs in config.json that the source lacks, given to it through a folder of links: a
   * vision-language model saved by transformers 4.57 (Qwen2-VL) names its class only in text_config, and the
   * converter's projector export finds no architecture.
   */
  configPatch?: Record<string, unknown>;
  /** The safetensors files, in shard order. */
  weightFiles: string[];
  /** Every top-level file the converter may read (config, tokenizer, weights, model card): the cache key covers them. */
  files: string[];
  tensorCount: number;
  parameterCount: number;
  /** Bytes of tensor data in the source. */
  tensorBytes: number;
}

const dtypeBytes: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, U16: 2, U32: 4, U64: 8, F4: 0.5, F6_E2M3: 0.75, F6_E3M2: 0.75,
};

// A header larger than this is not a safetensors header (the format caps it at 100 MB).
const maxHeaderBytes = 100_000_000;

/**
 * Checks a Hugging Face model folder before any work: it exists, has config.json with a supported architecture,
 * and every safetensors file has a sound header whose tensors fit in the file. Only headers are read.
 */
export async function inspectSource(params: InspectSourceParams): Promise<SourceModel> {
  const { dir } = params;
  const where = params.recipeFile ? ` in ${params.recipeFile}` : "";
  const info = await stat(dir).catch(() => undefined);
  if (!info) {
    throw new SourceModelError({ file: dir, message: "source model folder does not exist", hint: `set source.path${where} to a Hugging Face model folder (config.json + *.safetensors)` });
  }
  if (!info.isDirectory()) {
    throw new SourceModelError({ file: dir, message: "source.path is a file, not a model folder", hint: `set source.path${where} to the folder that holds config.json and the *.safetensors files` });
  }
  const entries = await readdir(dir, { withFileTypes: true });
  // A Hugging Face cache snapshot is a folder of symlinks into its blob store: follow them.
  const isFile = async (name: string, direct: boolean, link: boolean) => direct || (link && (await stat(join(dir, name)).then((i) => i.isFile(), () => false)));
  const files: string[] = [];
  const dangling: string[] = [];
  for (const e of entries) {
    if (await isFile(e.name, e.isFile(), e.isSymbolicLink())) files.push(e.name);
    else if (e.isSymbolicLink() && !(await stat(join(dir, e.name)).catch(() => undefined))) dangling.push(e.name);
  }
  files.sort();
  // A Hub cache snapshot copied without its blob store (or whose blobs were deleted) is a folder of dangling links.
  const broken = dangling.sort()[0];
  if (broken) {
    const target = await readlink(join(dir, broken)).catch(() => "?");
    throw new SourceModelError({ file: join(dir, broken), message: `links to ${target}, which does not exist`, hint: "copy the model's files rather than its links (cp -L), or download it again" });
  }

  const configPath = join(dir, "config.json");
  if (!files.includes("config.json")) {
    throw new SourceModelError({ file: configPath, message: "no config.json in the source folder", hint: "save the model with save_pretrained(), which writes config.json beside the weights" });
  }
  // The converter's Python reads every JSON file of the folder as UTF-8 and dies on a bad byte: say so here, in one line.
  for (const name of files.filter((f) => f.endsWith(".json"))) await checkUtf8(join(dir, name));
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
    if (!isObject(config)) throw new Error("not a JSON object");
  } catch (error) {
    throw new SourceModelError({ file: configPath, message: `config.json is not valid JSON (${oneLine(error)})`, hint: "restore config.json from the original model", cause: error });
  }
  const architectures = config.architectures;
  const nested = isObject(config.text_config) && isObject(config.vision_config) && Array.isArray(config.text_config.architectures) && typeof config.text_config.architectures[0] === "string" ? config.text_config.architectures[0] : undefined;
  const architecture = Array.isArray(architectures) && typeof architectures[0] === "string" ? architectures[0] : nested;
  const configPatch = architecture === nested && nested ? { architectures: [nested] } : undefined;
  if (!architecture) {
    throw new SourceModelError({ file: configPath, message: 'config.json has no "architectures" entry', hint: 'add the model class, e.g. "architectures": ["LlamaForCausalLM"]' });
  }
  // The converter takes a multimodal model's text model by text_config's architecture where it names one (SmolVLM's
  // VLlama3ForCausalLM under Idefics3ForConditionalGeneration): conversion/base.py's get_model_architecture.
  const textConfig = isObject(config.text_config) ? config.text_config : undefined;
  const textArchitecture = Array.isArray(textConfig?.architectures) && typeof textConfig.architectures[0] === "string" ? textConfig.architectures[0] : undefined;
  const mmproj = params.mmprojArchitectures ?? pinnedConverterMmprojArchitectures;
  const vision = isObject(config.vision_config) && mmproj.includes(architecture) ? { architecture } : undefined;
  if (!params.architectures.includes(architecture) && !(textArchitecture && params.architectures.includes(textArchitecture))) {
    const guess = suggest(architecture, params.architectures);
    throw new SourceModelError({
      file: configPath,
      message: `architecture ${architecture} is not supported by the pinned llama.cpp converter`,
      hint: guess ? `did you mean ${guess}? (\`pipeline doctor\` lists what the converter supports)` : "use a model whose architecture llama.cpp supports, or point GGUF_PIPELINE_LLAMA_CPP at a newer llama.cpp",
    });
  }

  const weightFiles = await listWeightFiles(dir, files);
  const sizes: Record<string, number> = {};
  for (const f of files.filter((name) => vocabularyFile.test(name))) sizes[f] = (await stat(join(dir, f))).size;
  checkVocabulary({ dir, files, sizes, architecture });
  let tensorCount = 0;
  let parameterCount = 0;
  let tensorBytes = 0;
  const shapes: Record<string, number[]> = {};
  for (const file of weightFiles) {
    const header = await checkSafetensors(join(dir, file));
    tensorCount += header.tensorCount;
    parameterCount += header.parameterCount;
    tensorBytes += header.tensorBytes;
    for (const [name, t] of Object.entries(header.tensors)) shapes[name] = t.shape;
  }
  checkLayerCount({ configPath, config, names: Object.keys(shapes) });
  return { dir, shapes, architecture, ...(vision ? { vision } : {}), config, ...(configPatch ? { configPatch } : {}), weightFiles, files, tensorCount, parameterCount, tensorBytes };
}

/**
 * A config that names more layers than the weights hold converts into a GGUF llama.cpp cannot load (it looks for
 * `blk.N` tensors that are not there). Fewer is fine: some checkpoints carry extra blocks (multi-token prediction).
 */
function checkLayerCount(params: { configPath: string; config: Record<string, unknown>; names: string[] }): void {
  const text = (typeof params.config.text_config === "object" && params.config.text_config !== null ? params.config.text_config : params.config) as Record<string, unknown>;
  const said = [text.num_hidden_layers, text.n_layer, text.num_layers].find((v): v is number => typeof v === "number");
  // Multimodal checkpoints also number their vision tower's layers: count the language model's only where it is named.
  const names = params.names.some((n) => /language_model\./.test(n)) ? params.names.filter((n) => /language_model\./.test(n)) : params.names.filter((n) => !/vision|visual|image/.test(n));
  const indices = new Set(names.flatMap((n) => /\.(?:layers|layer|h|blocks)\.(\d+)\./.exec(n)?.[1] ?? []));
  if (said === undefined || indices.size === 0 || indices.size >= said) return;
  throw new SourceModelError({ file: params.configPath, message: `config.json says ${said} layers, but the weights hold ${indices.size}`, hint: "fix num_hidden_layers in config.json (or restore the missing weights): llama.cpp could not load the converted file" });
}

// Architectures whose pinned converter needs no tokenizer files: a built-in vocabulary (Mamba's GPT-NeoX, OpenELM's
// Llama 2) or none at all (audio codecs). Every other one reads the source's vocabulary.
const noVocabularyNeeded = new Set(["MambaForCausalLM", "MambaLMHeadModel", "FalconMambaForCausalLM", "Mamba2ForCausalLM", "OpenELMForCausalLM", "Lfm25AudioTokenizer", "WavTokenizerDec"]);

// The vocabulary files the pinned converter's vocab paths read (directly or through AutoTokenizer): a fast tokenizer,
// a SentencePiece model under any of its names, Mistral's tekken, PLaMo's jsonl, RWKV's world vocabulary, WordPiece,
// tiktoken; vocab.json counts only with its merges.txt (a byte-level BPE needs both).
const vocabularyFile = /^(tokenizer\.json|tekken\.json|tokenizer\.jsonl|vocab\.txt|rwkv_vocab_v\d+\.txt|.+\.model(\.v\d+)?|.+\.tiktoken)$/;

/**
 * The converter reads the model's vocabulary; without one it dies deep in transformers (`TypeError: not a string`).
 * Checked up front so the user hears which file is missing and how to write it.
 */
function checkVocabulary(params: { dir: string; files: string[]; sizes: Record<string, number>; architecture: string }): void {
  const { dir, files, sizes, architecture } = params;
  if (noVocabularyNeeded.has(architecture)) return;
  const save = "save the tokenizer beside the weights with tokenizer.save_pretrained(dir), or copy its files from the base model";
  const found = files.filter((f) => vocabularyFile.test(f));
  // An empty file (a failed copy, a placeholder) reads as no vocabulary: sentencepiece says only `TypeError: not a string`.
  const empty = found.find((f) => sizes[f] === 0);
  if (empty) throw new SourceModelError({ file: join(dir, empty), message: `${empty} is empty: the converter cannot read the vocabulary`, hint: save });
  if (found.length > 0) return;
  if (files.includes("vocab.json")) {
    if (files.includes("merges.txt")) return;
    throw new SourceModelError({ file: join(dir, "merges.txt"), message: "vocab.json has no merges.txt beside it: the converter cannot read the tokenizer", hint: save });
  }
  throw new SourceModelError({ file: dir, message: "no tokenizer.json or tokenizer.model in the source folder: the converter needs the model's vocabulary", hint: save });
}

async function listWeightFiles(dir: string, files: string[]): Promise<string[]> {
  const indexName = "model.safetensors.index.json";
  if (files.includes(indexName)) {
    const indexPath = join(dir, indexName);
    let weightMap: Record<string, string>;
    try {
      weightMap = (JSON.parse(await readFile(indexPath, "utf8")) as { weight_map: Record<string, string> }).weight_map;
      if (!weightMap || typeof weightMap !== "object") throw new Error("no weight_map");
    } catch (error) {
      throw new SourceModelError({ file: indexPath, message: `shard index is unreadable (${oneLine(error)})`, hint: "restore the index from the original model", cause: error });
    }
    const shards = [...new Set(Object.values(weightMap))].sort();
    const missing = shards.filter((s) => !files.includes(s));
    if (missing.length > 0) {
      throw new SourceModelError({ file: join(dir, missing[0] ?? ""), message: `shard listed in ${indexName} is missing (${missing.length} of ${shards.length} missing)`, hint: "download every shard of the model" });
    }
    return shards;
  }
  const weights = files.filter((f) => f.endsWith(".safetensors"));
  if (weights.length === 0) {
    const hasBin = files.some((f) => f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth"));
    throw new SourceModelError({
      file: dir,
      message: "no *.safetensors files in the source folder",
      hint: hasBin ? "re-save the checkpoint as safetensors: model.save_pretrained(dir, safe_serialization=True)" : "point source.path at the folder that holds the model's *.safetensors",
    });
  }
  return weights;
}

export interface SafetensorsHeader {
  tensorCount: number;
  parameterCount: number;
  tensorBytes: number;
  /** Every tensor's dtype and shape, by name. */
  tensors: Record<string, { dtype: string; shape: number[] }>;
}

/** Reads and checks only the header: an 8-byte little-endian length, then that much JSON; the tensors must fit the file. */
export async function checkSafetensors(file: string): Promise<SafetensorsHeader> {
  const fix = "re-download or re-save this file; it is corrupt or incomplete";
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new SourceModelError({ file, message: `safetensors file is truncated (${size} bytes, not even a header length)`, hint: fix });
    const lengthBuf = Buffer.alloc(8);
    await handle.read(lengthBuf, 0, 8, 0);
    const headerLength = lengthBuf.readBigUInt64LE(0);
    if (headerLength > BigInt(maxHeaderBytes) || headerLength < 2n) {
      throw new SourceModelError({ file, message: `safetensors header is corrupt (header length ${headerLength} bytes)`, hint: fix });
    }
    const n = Number(headerLength);
    if (8 + n > size) {
      throw new SourceModelError({ file, message: `safetensors file is truncated (header says ${n} bytes, file has ${size - 8} after the length)`, hint: fix });
    }
    const headerBuf = Buffer.alloc(n);
    await handle.read(headerBuf, 0, n, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString("utf8")) as Record<string, unknown>;
      if (!isObject(header)) throw new Error("not a JSON object");
    } catch (error) {
      throw new SourceModelError({ file, message: `safetensors header is corrupt (not JSON: ${oneLine(error)})`, hint: fix, cause: error });
    }
    const dataBytes = size - 8 - n;
    let tensorCount = 0;
    let parameterCount = 0;
    let tensorBytes = 0;
    let end = 0;
    const tensors: SafetensorsHeader["tensors"] = {};
    const spans: { name: string; begin: number; stop: number }[] = [];
    for (const [name, value] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const tensor = (isObject(value) ? value : {}) as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      const width = tensor.dtype ? dtypeBytes[tensor.dtype] : undefined;
      const numbers = (list: unknown) => Array.isArray(list) && list.every((n) => Number.isSafeInteger(n) && n >= 0);
      if (!width || !numbers(tensor.shape) || !numbers(tensor.data_offsets) || tensor.data_offsets?.length !== 2) {
        throw new SourceModelError({ file, message: `safetensors header is corrupt (tensor ${name} has a bad dtype, shape or offsets)`, hint: fix });
      }
      const shape = tensor.shape ?? [];
      const [begin = 0, stop = 0] = tensor.data_offsets;
      const elements = shape.reduce((a, b) => a * b, 1);
      if (stop - begin !== Math.ceil(elements * width)) {
        throw new SourceModelError({ file, message: `safetensors header is corrupt (tensor ${name}: ${stop - begin} bytes for shape [${shape.join(", ")}] ${tensor.dtype})`, hint: fix });
      }
      end = Math.max(end, stop);
      spans.push({ name, begin, stop });
      tensors[name] = { dtype: tensor.dtype ?? "", shape };
      tensorCount++;
      parameterCount += elements;
      tensorBytes += stop - begin;
    }
    if (end > dataBytes) {
      throw new SourceModelError({ file, message: `safetensors file is truncated (tensor data ends at byte ${end}, file has ${dataBytes})`, hint: fix });
    }
    // The format (and its Python reader) wants the data covered exactly: every tensor after the last, no overlap, no hole.
    spans.sort((a, b) => a.begin - b.begin || a.stop - b.stop);
    for (let i = 1; i < spans.length; i++) {
      const [prev, next] = [spans[i - 1], spans[i]];
      if (prev && next && next.begin < prev.stop) throw new SourceModelError({ file, message: `safetensors header is corrupt (tensors ${prev.name} and ${next.name} overlap at bytes ${next.begin}–${Math.min(prev.stop, next.stop)})`, hint: fix });
      if (prev && next && next.begin > prev.stop) throw new SourceModelError({ file, message: `safetensors header is corrupt (no tensor covers bytes ${prev.stop}–${next.begin})`, hint: fix });
    }
    return { tensorCount, parameterCount, tensorBytes, tensors };
  } finally {
    await handle.close();
  }
}

/** A JSON file of the source must be UTF-8 (what transformers and the converter read it as): one line naming the byte. */
async function checkUtf8(file: string): Promise<void> {
  const bytes = await readFile(file);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const lossy = bytes.toString("utf8");
    const at = Buffer.byteLength(lossy.slice(0, lossy.indexOf("\uFFFD")), "utf8");
    throw new SourceModelError({ file, message: `${basename(file)} is not valid UTF-8 (a bad byte at offset ${at})`, hint: "save it as UTF-8 (it is JSON: transformers and the converter read it as UTF-8)" });
  }
}

/** An error's message on one line (JSON.parse quotes the bad text, newlines and all): the user sees one line. */
function oneLine(error: unknown): string {
  return String((error as Error).message).replace(/\s+/g, " ").trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
