import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { gguf, GGMLQuantizationType as T, type GGUFParseOutput } from "@huggingface/gguf";
import { tensorBytes } from "./ggml-type-sizes.js";
import { fileTypeName, ggmlTypeName } from "./read-gguf.js";

export interface CheckGgufParams {
  file: string;
  /** Architectures the pinned llama.cpp knows (general.architecture must be one). */
  architectures?: readonly string[];
  /** What the source says, when the file was made from one. */
  expect?: { tensorCount?: number; chatTemplate?: boolean };
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
}

// file_type → the tensor type most 2-D weights must have; mixtures (k-quants, IQ) only need to be quantized.
const uniform: Record<number, number> = { 0: T.F32, 1: T.F16, 32: T.BF16, 7: T.Q8_0, 2: T.Q4_0, 3: T.Q4_1, 8: T.Q5_0, 9: T.Q5_1 };
const unquantized = new Set<number>([T.F32, T.F16, T.BF16, T.F64]);

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
  const done = () => ({ file, ok: checks.every((c) => c.ok), checks });

  const size = await stat(file).then((s) => s.size, () => -1);
  if (size < 0) {
    add("readable", false, "the file does not exist or cannot be read");
    return done();
  }
  const handle = await open(file, "r");
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, 0).finally(() => handle.close());
  const magicText = magic.toString("latin1");
  add("magic", magicText === "GGUF", magicText === "GGUF" ? "starts with GGUF" : `starts with ${JSON.stringify(magicText)}, not "GGUF": not a GGUF file`);
  if (magicText !== "GGUF") return done();

  let parsed: GGUFParseOutput;
  try {
    parsed = await gguf(file, { allowLocalFile: true });
  } catch (error) {
    add("header", false, `the header cannot be read: ${(error as Error).message}`);
    return done();
  }
  const m = parsed.metadata as unknown as Record<string, unknown>;
  const version = Number(m.version);
  add("version", version === 2 || version === 3, `GGUF version ${version}`);

  // Tensor data: every tensor inside the file, and the file no longer or shorter than the header implies.
  const dataOffset = Number(parsed.tensorDataOffset);
  const alignment = Number(m["general.alignment"] ?? 32);
  let end = 0;
  let outside: string | undefined;
  let unknownType: string | undefined;
  for (const info of parsed.tensorInfos) {
    const bytes = tensorBytes(info.dtype, info.shape);
    if (bytes === undefined) {
      unknownType ??= `${info.name} has type ${ggmlTypeName(info.dtype)}`;
      continue;
    }
    const tensorEnd = Number(info.offset) + bytes;
    end = Math.max(end, tensorEnd);
    if (dataOffset + tensorEnd > size && !outside) outside = `${info.name} ends at byte ${dataOffset + tensorEnd}, the file has ${size}`;
  }
  add("tensor types", !unknownType, unknownType ? `unknown tensor type: ${unknownType}` : `${parsed.tensorInfos.length} tensors of known types`);
  add("tensor data in bounds", !outside, outside ?? `all ${parsed.tensorInfos.length} tensors lie inside the file`);
  const minimal = dataOffset + end;
  const padded = dataOffset + Math.ceil(end / alignment) * alignment;
  const sizeOk = size >= minimal && size <= padded;
  add("file size", sizeOk, sizeOk ? `${size} bytes, as the header implies` : size < minimal ? `${size} bytes, but the header implies ${minimal}: the file is truncated` : `${size} bytes, but the header implies at most ${padded}: trailing data`);
  const arch = typeof m["general.architecture"] === "string" ? (m["general.architecture"] as string) : undefined;
  // Adapters and importance matrices are GGUFs too, but carry no tokenizer or file type: only the structure applies.
  const kind = typeof m["general.type"] === "string" ? (m["general.type"] as string) : "model";
  if (kind !== "model") {
    add("kind", true, `general.type ${kind}: structural checks only`);
    return done();
  }
  if (params.expect?.tensorCount !== undefined) {
    add("tensor count", parsed.tensorInfos.length === params.expect.tensorCount, `${parsed.tensorInfos.length} tensors; the source implies ${params.expect.tensorCount}`);
  }
  add(
    "architecture",
    Boolean(arch) && (!params.architectures || params.architectures.includes(arch ?? "")),
    !arch ? "general.architecture is missing" : params.architectures && !params.architectures.includes(arch) ? `general.architecture ${arch} is unknown to the pinned llama.cpp` : `general.architecture ${arch}`,
  );

  const fileType = typeof m["general.file_type"] === "number" ? (m["general.file_type"] as number) : undefined;
  const weights = parsed.tensorInfos.filter((t) => t.shape.length >= 2);
  if (fileType === undefined) add("file type", false, "general.file_type is missing");
  else {
    const expected = uniform[fileType];
    const matching = weights.filter((t) => (expected === undefined ? !unquantized.has(t.dtype) : t.dtype === expected)).length;
    const ok = weights.length === 0 || matching * 2 >= weights.length;
    const what = expected === undefined ? "quantized" : ggmlTypeName(expected);
    add("file type", ok, `general.file_type ${fileTypeName(fileType)}: ${matching} of ${weights.length} weight tensors are ${what}${ok ? "" : " — the file type does not match the tensors"}`);
  }

  const tokens = m["tokenizer.ggml.tokens"];
  const model = m["tokenizer.ggml.model"];
  const embd = parsed.tensorInfos.find((t) => t.name === "token_embd.weight");
  const vocab = embd ? Number(embd.shape[1]) : typeof m[`${arch}.vocab_size`] === "number" ? (m[`${arch}.vocab_size`] as number) : undefined;
  if (typeof model !== "string" || !Array.isArray(tokens)) {
    add("tokenizer", false, `tokenizer ${typeof model !== "string" ? "model (tokenizer.ggml.model)" : "tokens (tokenizer.ggml.tokens)"} missing: llama.cpp cannot load this file`);
  } else {
    const countOk = vocab === undefined || tokens.length === vocab;
    add("tokenizer", countOk, `${model} tokenizer with ${tokens.length} tokens${vocab !== undefined ? `; the embeddings have ${vocab} rows` : ""}`);
    for (const key of ["bos", "eos"]) {
      const id = m[`tokenizer.ggml.${key}_token_id`];
      if (typeof id === "number") add(`${key} token`, id >= 0 && id < tokens.length, `${key} id ${id} of ${tokens.length} tokens`);
    }
  }
  const ctx = m[`${arch}.context_length`];
  add("context length", typeof ctx === "number" && ctx > 0, typeof ctx === "number" ? `${arch}.context_length ${ctx}` : `${arch}.context_length is missing`);
  if (params.expect?.chatTemplate) {
    const template = m["tokenizer.chat_template"];
    add("chat template", typeof template === "string" && template.length > 0, typeof template === "string" ? `${template.length} characters` : "the source has a chat template, the GGUF does not");
  }
  return done();
}
