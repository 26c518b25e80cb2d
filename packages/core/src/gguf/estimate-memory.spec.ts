import { describe, expect, it } from "vitest";
import { configShape, estimateMemory, modelShape } from "./estimate-memory.js";

// SmolLM-135M's shape; the numbers are llama.cpp's logged buffers for it (Q4_K_M, 98.87 MiB of weights, -ub 512).
const smol = { weightsBytes: 98.87 * 2 ** 20, layers: 30, embedding: 576, feedForward: 1536, heads: 9, headsKv: 3, keyLength: 64, valueLength: 64, vocab: 49152 };
const MiB = (b: number) => Math.round((b / 2 ** 20) * 100) / 100;

describe("estimateMemory", () => {
  it("should give llama.cpp's KV cache and compute buffers: logits for a micro-batch, or attention scores without flash attention", () => {
    const at2k = estimateMemory({ shape: smol, ctx: 2048 });
    expect(MiB(at2k.kvCacheBytes)).toBe(45);
    expect(MiB(at2k.computeBytes)).toBe(98.25);
    expect(MiB(at2k.outputBytes)).toBe(0.19);
    // Without flash attention at 8k the scores outgrow the logits (llama.cpp logs 166.38 MiB).
    expect(MiB(estimateMemory({ shape: smol, ctx: 8192, flashAttention: false }).computeBytes)).toBeCloseTo(166.38, -1);
  });

  it("should round the context up to llama.cpp's 256 cells", () => {
    expect(estimateMemory({ shape: smol, ctx: 100 }).kvCacheBytes).toBe(estimateMemory({ shape: smol, ctx: 256 }).kvCacheBytes);
  });

  it("should read the same shape from GGUF metadata and from config.json", () => {
    const fromGguf = modelShape({ metadata: { "general.architecture": "llama", "llama.block_count": 30, "llama.embedding_length": 576, "llama.feed_forward_length": 1536, "llama.attention.head_count": 9, "llama.attention.head_count_kv": 3, "tokenizer.ggml.tokens": { kind: "long-array", itemType: 8, length: 49152, head: [] } }, weightsBytes: smol.weightsBytes });
    const fromConfig = configShape({ config: { num_hidden_layers: 30, hidden_size: 576, intermediate_size: 1536, num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152 }, weightsBytes: smol.weightsBytes });
    expect(fromGguf).toEqual(smol);
    expect(fromConfig).toEqual(smol);
  });
});
