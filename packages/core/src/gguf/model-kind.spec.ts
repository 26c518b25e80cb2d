import { describe, expect, it } from "vitest";
import { modelKind } from "./model-kind.js";

describe("modelKind", () => {
  it("should take a causal decoder without pooling for a text-generation model", () => {
    expect(modelKind({ metadata: { "general.architecture": "llama", "llama.context_length": 256 } })).toEqual({ kind: "text-generation", why: "llama: causal, no pooling" });
  });

  it("should take a sentence-transformers BERT (mean pooling) for an embedding model", () => {
    expect(modelKind({ metadata: { "general.architecture": "bert", "bert.pooling_type": 1, "bert.attention.causal": false } })).toEqual({ kind: "embedding", why: "bert.pooling_type mean" });
  });

  it("should take a decoder that pools its last token (Qwen3-Embedding) for an embedding model", () => {
    expect(modelKind({ metadata: { "general.architecture": "qwen3", "qwen3.pooling_type": 3 } }).kind).toBe("embedding");
  });

  it("should take non-causal attention, or an encoder architecture without pooling metadata, for an embedding model", () => {
    expect(modelKind({ metadata: { "general.architecture": "gemma-embedding", "gemma-embedding.attention.causal": false } }).why).toBe("gemma-embedding.attention.causal false");
    expect(modelKind({ metadata: { "general.architecture": "nomic-bert" } }).kind).toBe("embedding");
  });

  it("should not take pooling type none for an embedding model", () => {
    expect(modelKind({ metadata: { "general.architecture": "llama", "llama.pooling_type": 0 } }).kind).toBe("text-generation");
  });
});
