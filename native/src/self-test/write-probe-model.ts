import { createWriteStream } from "node:fs";
import { encodeGgufKv, GgufWriter, ggufTypes, type GgufTypedValue } from "@gguf-pipeline/core";
import { once } from "node:events";
import { finished } from "node:stream/promises";

export interface WriteProbeModelParams {
  /** Where the F32 GGUF goes. */
  file: string;
  /** Seed of the weights (the same seed gives the same bytes). */
  seed?: number;
  /** Another size (the throughput probe: a model big enough that its matrix products, not start-up, take the time). */
  shape?: ProbeShape;
}

export interface ProbeShape {
  embd: number;
  heads: number;
  headsKv: number;
  layers: number;
  ff: number;
  ctx: number;
}

export interface ProbeModel {
  file: string;
  parameters: number;
}

/**
 * The shape of the self-test model: every matrix is a multiple of 256 wide (QK_K, so K-quants and IQ types apply to
 * every tensor instead of falling back) and of 32 tall (TILE_N*2, so ggml's AMX kernels take them, as they would a
 * real model's); two layers, grouped-query attention. 1.6 M weights: every tool runs in well under a second.
 */
export const probeShape: ProbeShape = { embd: 256, heads: 4, headsKv: 2, layers: 2, ff: 512, ctx: 512 };

/** Words the vocabulary spells with its own pieces (letters and common pairs, SentencePiece style). */
export const probeWords = ["the", "model", "runs", "on", "every", "machine", "and", "its", "tools", "agree", "with", "one", "another", "when", "quantized", "weights", "meet", "a", "prompt", "in", "light", "of", "small", "numbers", "that", "stay", "close", "to", "reference", "values", "today"] as const;

/**
 * Writes a small Llama-architecture GGUF with seeded random F32 weights and a SentencePiece-style vocabulary of its
 * own (control tokens, 256 byte pieces, letters and pairs): a model every llama.cpp tool loads, made without Python
 * or a download, so the toolchain can be proven right after it is built. Its logits have a spread of a few units,
 * so a wrong kernel shows as a large KL divergence, not a rounding.
 */
export async function writeProbeModel(params: WriteProbeModelParams): Promise<ProbeModel> {
  const vocab = probeVocabulary();
  const random = normalFrom(params.seed ?? 20261206);
  const shape = params.shape ?? probeShape;
  const headDim = shape.embd / shape.heads;
  const tensors = tensorList(vocab.tokens.length, shape);
  const metadata: [string, GgufTypedValue][] = [
    ["general.architecture", str("llama")],
    ["general.name", str("gguf-pipeline toolchain self-test")],
    ["general.file_type", u32(0)],
    ["llama.context_length", u32(shape.ctx)],
    ["llama.embedding_length", u32(shape.embd)],
    ["llama.block_count", u32(shape.layers)],
    ["llama.feed_forward_length", u32(shape.ff)],
    ["llama.attention.head_count", u32(shape.heads)],
    ["llama.attention.head_count_kv", u32(shape.headsKv)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.rope.dimension_count", u32(headDim)],
    ["llama.rope.freq_base", f32(10000)],
    ["llama.vocab_size", u32(vocab.tokens.length)],
    ["tokenizer.ggml.model", str("llama")],
    ["tokenizer.ggml.tokens", { type: T.ARRAY, subType: T.STRING, value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: T.ARRAY, subType: T.F32, value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: T.ARRAY, subType: T.I32, value: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32(0)],
    ["tokenizer.ggml.bos_token_id", u32(1)],
    ["tokenizer.ggml.eos_token_id", u32(2)],
    ["tokenizer.ggml.add_bos_token", { type: T.BOOL, value: true }],
    ["tokenizer.ggml.add_eos_token", { type: T.BOOL, value: false }],
  ];
  const alignment = 32;
  const header = new GgufWriter();
  header.raw(Buffer.from("GGUF", "latin1"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) header.raw(encodeGgufKv(key, value));
  let offset = 0;
  for (const t of tensors) {
    header.string(t.name);
    header.u32(t.dims.length);
    for (const d of t.dims) header.u64(d);
    header.u32(0); // GGML_TYPE_F32
    header.u64(offset);
    offset += pad(t.dims.reduce((a, b) => a * b, 1) * 4, alignment);
  }
  header.raw(Buffer.alloc(pad(header.length, alignment) - header.length));

  const out = createWriteStream(params.file);
  const write = async (chunk: Buffer) => {
    if (!out.write(chunk)) await once(out, "drain");
  };
  await write(header.bytes());
  for (const t of tensors) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    const data = Buffer.alloc(pad(count * 4, alignment));
    for (let i = 0; i < count; i++) data.writeFloatLE(t.init === "ones" ? 1 : random() * t.scale, i * 4);
    await write(data);
  }
  out.end();
  await finished(out);
  return { file: params.file, parameters: tensors.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0) };
}

/** The text the self-test measures on: 600 of the probe's words in a seeded order, a sentence every twelve (~2000 tokens). */
export function probeText(seed = 7): string {
  let state = seed;
  const words: string[] = [];
  for (let i = 0; i < 600; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    words.push(probeWords[state % probeWords.length] ?? "the");
    if (i % 12 === 11) words.push(".\n");
  }
  return words.join(" ");
}

interface ProbeTensor {
  name: string;
  /** ggml order: the row length first. */
  dims: number[];
  init: "ones" | "normal";
  scale: number;
}

function tensorList(vocab: number, shape: ProbeShape): ProbeTensor[] {
  const { embd, ff, headsKv } = shape;
  const headDim = embd / shape.heads;
  const normal = (name: string, dims: number[], scale: number): ProbeTensor => ({ name, dims, init: "normal", scale });
  const ones = (name: string): ProbeTensor => ({ name, dims: [embd], init: "ones", scale: 1 });
  const list: ProbeTensor[] = [normal("token_embd.weight", [embd, vocab], 1), ones("output_norm.weight"), normal("output.weight", [embd, vocab], 3 / Math.sqrt(embd))];
  for (let i = 0; i < shape.layers; i++) {
    // Each layer's output is about as large as its input, so every kernel moves the logits.
    list.push(
      ones(`blk.${i}.attn_norm.weight`),
      normal(`blk.${i}.attn_q.weight`, [embd, embd], 1 / Math.sqrt(embd)),
      normal(`blk.${i}.attn_k.weight`, [embd, headsKv * headDim], 1 / Math.sqrt(embd)),
      normal(`blk.${i}.attn_v.weight`, [embd, headsKv * headDim], 1 / Math.sqrt(embd)),
      normal(`blk.${i}.attn_output.weight`, [embd, embd], 1 / Math.sqrt(embd)),
      ones(`blk.${i}.ffn_norm.weight`),
      normal(`blk.${i}.ffn_gate.weight`, [embd, ff], 1 / Math.sqrt(embd)),
      normal(`blk.${i}.ffn_up.weight`, [embd, ff], 1 / Math.sqrt(embd)),
      normal(`blk.${i}.ffn_down.weight`, [ff, embd], 1 / Math.sqrt(ff)),
    );
  }
  return list;
}

/** Control tokens, the 256 byte pieces, then letters and pairs scored so that longer pieces win (SentencePiece BPE). */
function probeVocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces = new Set<string>(["▁"]);
  for (const c of "abcdefghijklmnopqrstuvwxyz.,") pieces.add(c);
  for (const word of probeWords) {
    const spelled = `▁${word}`;
    for (let i = 0; i + 1 < spelled.length; i += 2) pieces.add(spelled.slice(i, i + 2));
  }
  const vocabSize = 512;
  for (const a of "▁etaoinsrhl") for (const b of "etaoinsrhld") if (pieces.size < vocabSize - tokens.length) pieces.add(`${a}${b}`);
  const ordered = [...pieces];
  for (const piece of ordered) {
    tokens.push(piece);
    types.push(1);
  }
  while (tokens.length < vocabSize) {
    tokens.push(`<unused${tokens.length}>`);
    types.push(5);
  }
  // Pairs outrank letters; within each, earlier pieces outrank later ones.
  const scores = tokens.map((t, i) => (types[i] === 1 ? (t.length > 1 ? -i / 1000 : -10 - i / 1000) : 0));
  return { tokens, scores, types };
}

/** A seeded normal sampler (mulberry32 + Box–Muller): the same seed gives the same model on every machine. */
function normalFrom(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const T = ggufTypes;
const str = (value: string): GgufTypedValue => ({ type: T.STRING, value });
const u32 = (value: number): GgufTypedValue => ({ type: T.U32, value });
const f32 = (value: number): GgufTypedValue => ({ type: T.F32, value });

function pad(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
