/** What a model's memory use depends on, from its GGUF header (or, before the file exists, its config). */
export interface ModelShape {
  /** Bytes of tensor data (the weights as loaded). */
  weightsBytes: number;
  layers: number;
  embedding: number;
  feedForward: number;
  heads: number;
  headsKv: number;
  keyLength: number;
  valueLength: number;
  vocab: number;
  /** An embedding model keeps no KV cache between calls and outputs vectors, not logits. */
  embeddingModel?: boolean;
}

export interface EstimateMemoryParams {
  shape: ModelShape;
  ctx: number;
  /** llama.cpp's -ub (default 512). */
  ubatch?: number;
  /** Flash attention (llama.cpp's default on CPU is auto, which turns it on). */
  flashAttention?: boolean;
  /** KV cache type (-ctk/-ctv), default f16. */
  cacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0";
  /** Sequences decoded at once (-np), default 1. */
  parallel?: number;
}

export interface MemoryEstimate {
  ctx: number;
  weightsBytes: number;
  kvCacheBytes: number;
  /** The output buffer: one row of logits (or one embedding) per sequence. */
  outputBytes: number;
  /** The compute buffer llama.cpp reserves for the worst-case micro-batch. */
  computeBytes: number;
  totalBytes: number;
}

const cacheBytes = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32, q4_0: 18 / 32 } as const;

/**
 * The memory llama.cpp allocates for a model at a context, as its own buffers add up (model + KV cache + output +
 * compute). The compute buffer is the larger of two phases of the reserve graph (measured against llama.cpp's logged
 * buffer sizes): the output phase, logits for a whole micro-batch; and the attention phase, which without flash
 * attention holds one score per KV cell, head and micro-batch token (and a f32 mask), with flash attention only an
 * f16 mask. llama.cpp rounds the context up to a multiple of 256 and the micro-batch down to the context.
 */
export function estimateMemory(params: EstimateMemoryParams): MemoryEstimate {
  const s = params.shape;
  const cells = Math.ceil(params.ctx / 256) * 256;
  const ub = Math.min(params.ubatch ?? 512, cells);
  const fa = params.flashAttention ?? true;
  const parallel = params.parallel ?? 1;
  const kvCacheBytes = s.embeddingModel ? 0 : s.layers * cells * s.headsKv * (s.keyLength + s.valueLength) * cacheBytes[params.cacheType ?? "f16"];
  const outputBytes = (s.embeddingModel ? s.embedding : s.vocab) * 4 * parallel;
  const f32 = 4;
  const outputPhase = ub * f32 * ((s.embeddingModel ? s.embedding : s.vocab) + 2 * s.embedding);
  const kvCells = s.embeddingModel ? ub : cells;
  const attentionPhase = kvCells * ub * (fa ? 2 : f32 + f32 * s.heads) + ub * f32 * (2 * s.feedForward + (fa ? 4 : 2) * s.embedding);
  const computeBytes = Math.max(outputPhase, attentionPhase);
  return { ctx: params.ctx, weightsBytes: s.weightsBytes, kvCacheBytes, outputBytes, computeBytes, totalBytes: s.weightsBytes + kvCacheBytes + outputBytes + computeBytes };
}

/** The shape estimateMemory needs, read from a GGUF's metadata and its tensor data size; undefined when keys are missing. */
export function modelShape(params: { metadata: Record<string, unknown>; weightsBytes: number; embeddingModel?: boolean }): ModelShape | undefined {
  const m = params.metadata;
  const arch = typeof m["general.architecture"] === "string" ? m["general.architecture"] : "";
  const num = (key: string) => (typeof m[`${arch}.${key}`] === "number" ? (m[`${arch}.${key}`] as number) : undefined);
  const layers = num("block_count");
  const embedding = num("embedding_length");
  const heads = num("attention.head_count");
  const feedForward = num("feed_forward_length");
  const tokens = m["tokenizer.ggml.tokens"];
  const vocab = num("vocab_size") ?? (Array.isArray(tokens) ? tokens.length : typeof tokens === "object" && tokens !== null && "length" in tokens ? Number((tokens as { length: number }).length) : undefined);
  if (!layers || !embedding || !heads || !vocab) return undefined;
  const headsKv = num("attention.head_count_kv") ?? heads;
  return {
    weightsBytes: params.weightsBytes,
    layers,
    embedding,
    feedForward: feedForward ?? 4 * embedding,
    heads,
    headsKv,
    keyLength: num("attention.key_length") ?? embedding / heads,
    valueLength: num("attention.value_length") ?? embedding / heads,
    vocab,
    ...(params.embeddingModel ? { embeddingModel: true } : {}),
  };
}

/** The same shape from a Hugging Face config.json, before any GGUF exists (for `plan`). */
export function configShape(params: { config: Record<string, unknown>; weightsBytes: number }): ModelShape | undefined {
  const c = params.config;
  // Multimodal configs keep the language model's numbers under text_config.
  const t = (typeof c.text_config === "object" && c.text_config !== null ? c.text_config : c) as Record<string, unknown>;
  const num = (...keys: string[]) => keys.map((k) => t[k]).find((v): v is number => typeof v === "number");
  const layers = num("num_hidden_layers", "n_layer", "num_layers");
  const embedding = num("hidden_size", "n_embd", "d_model");
  const heads = num("num_attention_heads", "n_head");
  const vocab = num("vocab_size");
  if (!layers || !embedding || !heads || !vocab) return undefined;
  const headDim = num("head_dim") ?? embedding / heads;
  return { weightsBytes: params.weightsBytes, layers, embedding, feedForward: num("intermediate_size", "n_inner") ?? 4 * embedding, heads, headsKv: num("num_key_value_heads") ?? heads, keyLength: headDim, valueLength: headDim, vocab };
}
