import { stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { checkProjector } from "./check-projector.js";
import { arrayLength, fileTypeName, ggmlTypeName, ggufLibrary, GgufHeaderError, modelKind, readVocabulary, scanGguf, tensorBytes, type GgufHeader, type GgufValue, type ModelKindOutput } from "@gguf-pipeline/core";

export interface CheckGgufParams {
  file: string;
  /** Architectures the pinned llama.cpp knows (general.architecture must be one). */
  architectures?: readonly string[];
  /** What the source says, when the file was made from one. */
  expect?: {
    tensorCount?: number;
    /** Every tensor's name and shape, as the reference (the intermediate) has them. */
    tensorShapes?: Record<string, number[]>;
    chatTemplate?: boolean;
    license?: { id: string; link?: string };
  };
  /** For a projector (general.type mmproj): its text model's embedding length, which its output must match. */
  textEmbedding?: number;
}

export interface GgufCheck {
  name: string;
  ok: boolean;
  /** The fact behind the verdict, in words. */
  fact: string;
}

export interface CheckGgufOutput {
  file: string;
  ok: boolean;
  checks: GgufCheck[];
  /** For a model (not an adapter or importance matrix) whose header could be read: text generation or embeddings. */
  kind?: ModelKindOutput;
  /** `<arch>.context_length`, for a model whose header could be read. */
  contextLength?: number;
}

// file_type → the tensor type most 2-D weights must have; mixtures (k-quants, IQ) only need to be quantized.
function tensorTypeRules(): { uniform: Record<number, number>; unquantized: Set<number> } {
  const T = ggufLibrary().GGMLQuantizationType;
  return { uniform: { 0: T.F32, 1: T.F16, 32: T.BF16, 7: T.Q8_0, 2: T.Q4_0, 3: T.Q4_1, 8: T.Q5_0, 9: T.Q5_1 }, unquantized: new Set<number>([T.F32, T.F16, T.BF16, T.F64]) };
}

/**
 * Structural checks on a GGUF file, without loading tensor data: magic and version, a readable header, every
 * tensor's data inside the file and the file exactly as long as the header implies (catches truncation), a known
 * architecture, a file_type that matches the tensor types, a tokenizer whose token count fits the embeddings and whose
 * BOS/EOS ids are in range, a context length, and (when the source has one) a chat template. Never throws for a bad file.
 */
export async function checkGguf(params: CheckGgufParams): Promise<CheckGgufOutput> {
  const file = resolve(params.file);
  const checks: GgufCheck[] = [];
  const add = (name: string, ok: boolean, fact: string) => checks.push({ name, ok, fact });
  // What the header says of the model, filled in as far as the header could be read.
  const facts: Pick<CheckGgufOutput, "kind" | "contextLength"> = {};
  const done = (): CheckGgufOutput => ({ file, ok: checks.every((c) => c.ok), checks, ...facts });

  // A shard set (<prefix>-00001-of-0000N.gguf) is one model: every shard gets the structural checks, and the model
  // checks see the first shard's metadata with the tensors of all of them.
  const named = ggufLibrary().parseGgufShardFilename(basename(file));
  const shard = named && Number(named.total) >= 1 ? named : undefined;
  const total = shard ? Number(shard.total) : 1;
  const files = shard ? Array.from({ length: total }, (_, i) => join(dirname(file), `${shard.prefix}-${String(i + 1).padStart(5, "0")}-of-${shard.total}.gguf`)) : [file];
  const structures = [];
  for (const f of files) structures.push(await checkStructure(f));
  const names = [...new Set(structures.flatMap((s) => s.checks.map((c) => c.name)))];
  for (const name of names) {
    const results = structures.map((s, i) => ({ shard: basename(files[i] ?? ""), check: s.checks.find((c) => c.name === name) }));
    const failed = results.find((r) => r.check && !r.check.ok);
    if (failed?.check) add(name, false, total > 1 ? `${failed.shard}: ${failed.check.fact}` : failed.check.fact);
    else add(name, true, total > 1 ? `${total} shards; the first: ${results[0]?.check?.fact ?? ""}` : (results[0]?.check?.fact ?? ""));
  }
  const parsedShards = structures.map((s) => s.parsed);
  const parsed = parsedShards[0];
  if (!parsed || parsedShards.some((p) => !p)) return done();
  const m: Record<string, GgufValue> = parsed.metadata;
  const tensorInfos = parsedShards.flatMap((p) => p?.tensors ?? []);
  if (shard) {
    const count = Number(m["split.count"] ?? 0);
    const tensorsCount = Number(m["split.tensors.count"] ?? -1);
    // Each shard says which it is (split.no counts from 0) and of how many: a stale shard of another split shows here.
    const metas = parsedShards.map((p) => p?.metadata ?? {});
    const misplaced = metas.findIndex((sm, i) => Number(sm["split.no"] ?? -1) !== i || Number(sm["split.count"] ?? -1) !== total);
    const ok = count === total && tensorsCount === tensorInfos.length && misplaced < 0;
    add(
      "shards",
      ok,
      count !== total
        ? `split.count is ${count}, the file names say ${total}`
        : tensorsCount !== tensorInfos.length
          ? `split.tensors.count is ${tensorsCount}, the shards hold ${tensorInfos.length}`
          : misplaced >= 0
            ? `${basename(files[misplaced] ?? "")} says it is split.no ${String(metas[misplaced]?.["split.no"])} of ${String(metas[misplaced]?.["split.count"])}: it belongs to another split`
            : `${total} shards holding all ${tensorInfos.length} tensors`,
    );
  } else if (Number(m["split.count"] ?? 1) > 1) {
    add("shards", false, `split.count is ${String(m["split.count"])} but the file name is not <name>-0000i-of-0000n.gguf, so its other shards cannot be found`);
  }
  const arch = typeof m["general.architecture"] === "string" ? (m["general.architecture"] as string) : undefined;
  // Adapters and importance matrices are GGUFs too, but carry no tokenizer or file type: only the structure applies.
  const fileKind = typeof m["general.type"] === "string" ? (m["general.type"] as string) : "model";
  if (fileKind === "mmproj") {
    checks.push(...checkProjector({ metadata: m, ...(params.textEmbedding !== undefined ? { textEmbedding: params.textEmbedding } : {}) }));
    return done();
  }
  if (fileKind !== "model") {
    add("kind", true, `general.type ${fileKind}: structural checks only`);
    return done();
  }
  const kind = modelKind({ metadata: m });
  facts.kind = kind;
  if (params.expect?.tensorCount !== undefined) {
    add("tensor count", tensorInfos.length === params.expect.tensorCount, `${tensorInfos.length} tensors; the source implies ${params.expect.tensorCount}`);
  }
  const shapes = params.expect?.tensorShapes;
  if (shapes) {
    const have = new Map(tensorInfos.map((t) => [t.name, t.shape]));
    const missing = Object.keys(shapes).find((name) => !have.has(name));
    const different = Object.entries(shapes).find(([name, shape]) => have.has(name) && have.get(name)?.join("x") !== shape.join("x"));
    add(
      "tensor shapes",
      !missing && !different,
      missing ? `${missing} is missing` : different ? `${different[0]} is ${have.get(different[0])?.join("×") ?? ""}, the reference's is ${different[1].join("×")}` : `all ${Object.keys(shapes).length} tensors have the reference's shapes`,
    );
  }
  add(
    "architecture",
    Boolean(arch) && (!params.architectures || params.architectures.includes(arch ?? "")),
    !arch ? "general.architecture is missing" : params.architectures && !params.architectures.includes(arch) ? `general.architecture ${arch} is unknown to the pinned llama.cpp` : `general.architecture ${arch}`,
  );

  const fileType = typeof m["general.file_type"] === "number" ? (m["general.file_type"] as number) : undefined;
  const weights = tensorInfos.filter((t) => t.shape.length >= 2);
  if (fileType === undefined) add("file type", false, "general.file_type is missing");
  else {
    const { uniform, unquantized } = tensorTypeRules();
    const expected = uniform[fileType];
    const matching = weights.filter((t) => (expected === undefined ? !unquantized.has(t.type) : t.type === expected)).length;
    const ok = weights.length === 0 || matching * 2 >= weights.length;
    const what = expected === undefined ? "quantized" : ggmlTypeName(expected);
    add("file type", ok, `general.file_type ${fileTypeName(fileType)}: ${matching} of ${weights.length} weight tensors are ${what}${ok ? "" : " — the file type does not match the tensors"}`);
  }

  // Only the vocabulary's length is needed: its strings are never read.
  const tokenCount = arrayLength(m["tokenizer.ggml.tokens"]);
  const model = m["tokenizer.ggml.model"];
  const embd = tensorInfos.find((t) => t.name === "token_embd.weight");
  const vocabSize = m[`${arch}.vocab_size`];
  const vocab = embd ? embd.shape[1] : typeof vocabSize === "number" ? vocabSize : undefined;
  if (typeof model !== "string" || tokenCount === undefined) {
    add("tokenizer", false, `tokenizer ${typeof model !== "string" ? "model (tokenizer.ggml.model)" : "tokens (tokenizer.ggml.tokens)"} missing: llama.cpp cannot load this file`);
  } else {
    const countOk = vocab === undefined || tokenCount === vocab;
    add("tokenizer", countOk, `${model} tokenizer with ${tokenCount} tokens${vocab !== undefined ? `; the embeddings have ${vocab} rows` : ""}`);
    for (const key of ["bos", "eos"]) {
      const id = m[`tokenizer.ggml.${key}_token_id`];
      if (typeof id === "number") add(`${key} token`, id >= 0 && id < tokenCount, `${key} id ${id} of ${tokenCount} tokens`);
    }
    checks.push(...(await vocabularyChecks({ file: files[0] ?? file, metadata: m, model, tokenCount })));
  }
  const ctx = m[`${arch}.context_length`];
  if (typeof ctx === "number") facts.contextLength = ctx;
  add("context length", typeof ctx === "number" && ctx > 0, typeof ctx === "number" ? `${arch}.context_length ${ctx}` : `${arch}.context_length is missing`);
  // An embedding model has no conversation to template, whatever its source's tokenizer config says.
  if (params.expect?.chatTemplate && kind.kind === "text-generation") {
    const template = m["tokenizer.chat_template"];
    add("chat template", typeof template === "string" && template.length > 0, typeof template === "string" ? `${template.length} characters` : "the source has a chat template, the GGUF does not");
  }
  const license = params.expect?.license;
  if (license) {
    const id = m["general.license"];
    const link = m["general.license.link"];
    const idOk = id === license.id;
    // No link in the verdict means none belongs in the file: a card's link to other terms must not survive.
    const linkOk = (link ?? undefined) === license.link;
    add(
      "license",
      idOk && linkOk,
      !idOk ? `general.license is ${typeof id === "string" ? id : "missing"}, the license policy says ${license.id}` : !linkOk ? `general.license.link is ${typeof link === "string" ? link : "missing"}, the license policy says ${license.link ?? "none"}` : `general.license ${license.id}${license.link ? `, general.license.link ${license.link}` : ""}`,
    );
  }
  return done();
}

/** The tokenizer models llama.cpp's vocabulary loader knows (src/llama-vocab.cpp); any other it refuses to load. */
export const knownTokenizerModels = ["no_vocab", "none", "llama", "bert", "gpt2", "hybriddna", "whitespace", "t5", "rwkv", "test", "plamo2", "gemma4"];

/**
 * What llama.cpp's vocabulary loader refuses that a header shows: an unknown tokenizer model, score and type arrays
 * shorter than the vocabulary, special-token ids outside it, and two tokens with the same bytes (its token-to-id map
 * then has fewer entries than tokens, and it aborts: GGML_ASSERT(id_to_token.size() == token_to_id.size())).
 */
async function vocabularyChecks(params: { file: string; metadata: Record<string, GgufValue>; model: string; tokenCount: number }): Promise<GgufCheck[]> {
  const { metadata: m, model, tokenCount } = params;
  const checks: GgufCheck[] = [];
  const known = knownTokenizerModels.includes(model);
  checks.push({ name: "tokenizer model", ok: known, fact: known ? `tokenizer.ggml.model ${model}` : `tokenizer.ggml.model "${model}" is not one the pinned llama.cpp knows (${knownTokenizerModels.join(", ")}): it cannot load this file` });
  const short = ["scores", "token_type"].map((key) => ({ key, n: arrayLength(m[`tokenizer.ggml.${key}`]) })).find((a) => a.n !== undefined && a.n < tokenCount);
  checks.push({ name: "token arrays", ok: !short, fact: short ? `tokenizer.ggml.${short.key} has ${short.n} items for ${tokenCount} tokens` : `scores and types for all ${tokenCount} tokens` });
  const outside = Object.entries(m).find(([key, id]) => /^tokenizer\.ggml\.\w+_token_id$/.test(key) && typeof id === "number" && (id < 0 || id >= tokenCount));
  checks.push({ name: "special tokens", ok: !outside, fact: outside ? `${outside[0]} is ${String(outside[1])}, outside the ${tokenCount} tokens` : "every special token id is a token" });
  const { tokens } = await readVocabulary({ file: params.file });
  const seen = new Map<string, number>();
  let repeat: [number, number] | undefined;
  for (const [i, token] of tokens.entries()) {
    const key = token.toString("latin1");
    const first = seen.get(key);
    if (first !== undefined) {
      repeat = [first, i];
      break;
    }
    seen.set(key, i);
  }
  const shown = (i: number) => JSON.stringify(tokens[i]?.toString("utf8") ?? "").replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  checks.push({ name: "token texts", ok: !repeat, fact: repeat ? `tokens ${repeat[0]} and ${repeat[1]} are both ${shown(repeat[0])}: llama.cpp refuses a vocabulary whose texts repeat` : `${tokens.length} distinct token texts` });
  return checks;
}

interface Structure {
  checks: GgufCheck[];
  parsed?: GgufHeader;
}

/** One file's structure: magic, version, a readable header, every tensor inside it, and its exact length. */
async function checkStructure(file: string): Promise<Structure> {
  const checks: GgufCheck[] = [];
  const add = (name: string, ok: boolean, fact: string) => checks.push({ name, ok, fact });
  const size = await stat(file).then((s) => s.size, () => -1);
  if (size < 0) {
    add("readable", false, "the file does not exist or cannot be read");
    return { checks };
  }
  let parsed: GgufHeader;
  try {
    parsed = await scanGguf({ file });
  } catch (error) {
    if (!(error instanceof GgufHeaderError)) throw error;
    // The first fact that cannot be read ends the checks: nothing after it is guessed.
    if (error.at === 0) add("magic", false, error.message);
    else {
      add("magic", true, "starts with GGUF");
      add("header", false, error.message);
    }
    return { checks };
  }
  add("magic", true, "starts with GGUF");
  add("version", parsed.version === 2 || parsed.version === 3, `GGUF version ${parsed.version}`);

  // Tensor data: every tensor inside the file, and the file no longer or shorter than the header implies.
  const dataOffset = parsed.tensorDataOffset;
  let end = 0;
  let outside: string | undefined;
  let unknownType: string | undefined;
  for (const info of parsed.tensors) {
    const bytes = tensorBytes(info.type, info.shape);
    if (bytes === undefined) {
      unknownType ??= `${info.name} has type ${ggmlTypeName(info.type)}`;
      continue;
    }
    const tensorEnd = info.offset + bytes;
    end = Math.max(end, tensorEnd);
    if (dataOffset + tensorEnd > size && !outside) outside = `${info.name} ends at byte ${dataOffset + tensorEnd}, the file has ${size}`;
  }
  add("tensor types", !unknownType, unknownType ? `unknown tensor type: ${unknownType}` : `${parsed.tensors.length} tensors of known types`);
  add("tensor data in bounds", !outside, outside ?? `all ${parsed.tensors.length} tensors lie inside the file`);
  const minimal = dataOffset + end;
  const padded = dataOffset + Math.ceil(end / parsed.alignment) * parsed.alignment;
  const sizeOk = size >= minimal && size <= padded;
  add("file size", sizeOk, sizeOk ? `${size} bytes, as the header implies` : size < minimal ? `${size} bytes, but the header implies ${minimal}: the file is truncated` : `${size} bytes, but the header implies at most ${padded}: trailing data`);
  return { checks, parsed };
}
