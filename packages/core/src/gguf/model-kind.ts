export type ModelKind = "text-generation" | "embedding";

export interface ModelKindOutput {
  kind: ModelKind;
  /** The header fact that decided it, in words. */
  why: string;
}

// llama.cpp's pooling types (enum llama_pooling_type): none, mean, cls, last, rank.
const poolingNames = ["none", "mean", "cls", "last", "rank"];

// Encoder-only architectures llama.cpp runs for embeddings; a file without pooling metadata is still one of these.
const encoderArchitectures = new Set(["bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "modern-bert", "neo-bert", "eurobert", "t5encoder"]);

/**
 * Tells a text-generation model from an embedding model by its GGUF header alone: a pooling type (the converter records
 * sentence-transformers' pooling as `<arch>.pooling_type`; decoder-based embedders such as Qwen3-Embedding pool "last"),
 * non-causal attention (`<arch>.attention.causal` false), or an encoder-only architecture.
 */
export function modelKind(params: { metadata: Record<string, unknown> }): ModelKindOutput {
  const m = params.metadata;
  const arch = typeof m["general.architecture"] === "string" ? m["general.architecture"] : "";
  const pooling = m[`${arch}.pooling_type`];
  if (typeof pooling === "number" && pooling > 0) return { kind: "embedding", why: `${arch}.pooling_type ${poolingNames[pooling] ?? pooling}` };
  if (m[`${arch}.attention.causal`] === false) return { kind: "embedding", why: `${arch}.attention.causal false` };
  if (encoderArchitectures.has(arch)) return { kind: "embedding", why: `${arch} is an encoder-only architecture` };
  return { kind: "text-generation", why: `${arch || "unknown"}: causal, no pooling` };
}
