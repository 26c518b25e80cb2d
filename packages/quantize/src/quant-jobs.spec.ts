import { describe, expect, it } from "vitest";
import { configShape, estimateMemory, type Recipe } from "@gguf-pipeline/core";
import { listedQuants, mixTarget, quantChoiceSpec, quantJobs } from "./quant-jobs.js";

describe("quantJobs", () => {
  it("should canonicalise types and merge shared options under each quant's own, in llama-quantize's flag order", () => {
    const recipe = {
      source: { path: "m" },
      quants: ["q4_k", { type: "Q8_0", pure: true, tensorTypes: ["attn_v=f16"], imatrix: false }],
      quantOptions: { outputTensorType: "q8_0", tensorTypes: ["attn_k=q8_0"], overrideKv: ["x.y=int:1"] },
      imatrix: { ctx: 64 },
    } as Recipe;
    expect(quantJobs(recipe)).toEqual([
      { type: "Q4_K_M", options: ["--output-tensor-type", "q8_0", "--tensor-type", "attn_k=q8_0", "--override-kv", "x.y=int:1"], useImatrix: true },
      { type: "Q8_0", options: ["--pure", "--output-tensor-type", "q8_0", "--tensor-type", "attn_v=f16", "--override-kv", "x.y=int:1"], useImatrix: false },
    ]);
  });

  it("should use no imatrix when the recipe has none", () => {
    expect(quantJobs({ source: { path: "m" }, quants: ["Q4_0"] } as Recipe)).toEqual([{ type: "Q4_0", options: [], useImatrix: false }]);
  });

  it("should make a budget choice's `also` types and, once known, the chosen ones (each once)", () => {
    const recipe = { source: { path: "m" }, quants: { fit: ["8GB"], also: ["q8_0"] }, quantOptions: { pure: true } } as Recipe;
    expect(quantChoiceSpec(recipe)).toEqual({ fit: ["8GB"], also: ["q8_0"] });
    expect(listedQuants(recipe)).toEqual(["q8_0"]);
    expect(quantJobs(recipe).map((j) => j.type)).toEqual(["Q8_0"]);
    expect(quantJobs(recipe, ["Q4_K_M", "Q8_0"])).toEqual([
      { type: "Q8_0", options: ["--pure"], useImatrix: false },
      { type: "Q4_K_M", options: ["--pure"], useImatrix: false },
    ]);
  });

  it("should see no choice in a listed ladder", () => {
    const recipe = { source: { path: "m" }, quants: ["Q4_K_M"] } as Recipe;
    expect(quantChoiceSpec(recipe)).toBeUndefined();
    expect(listedQuants(recipe)).toEqual(["Q4_K_M"]);
  });

  it("should turn a mix's memory budget into a file size: the budget less margin, reserve and what llama.cpp allocates beside the weights", () => {
    // A 7B-like shape: 32 layers of 4096, 8 KV heads of 128.
    const config = { num_hidden_layers: 32, hidden_size: 4096, num_attention_heads: 32, num_key_value_heads: 8, intermediate_size: 14336, vocab_size: 128256 };
    const weights = 8_030_000_000;
    const target = mixTarget({ fit: "8GB", ctx: 8192 }, { weights, config });
    const beside = estimateMemory({ shape: configShape({ config, weightsBytes: 0 }) ?? (undefined as never), ctx: 8192 }).totalBytes;
    expect(target.bytes).toBe(Math.floor(8 * 2 ** 30 * 0.9 - 64 * 2 ** 20) - beside);
    expect(target.fit).toEqual({ budget: "8GB", ctx: 8192 });
    // The KV cache at 8192 (1 GiB at f16) is most of what is beside.
    expect(beside).toBeGreaterThan(2 ** 30);
    expect(target.bpw).toBeCloseTo((target.bytes * 8) / weights, 6);
    // A vision model's projector is held by the same budget.
    expect(mixTarget({ fit: "8GB", ctx: 8192 }, { weights, config, besideBytes: 800_000_000 }).bytes).toBe(target.bytes - 800_000_000);
  });

  it("should add the mix that fills each budget of quants.fit with mix, unless Q8_0 itself fits there", () => {
    const config = { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, vocab_size: 512 };
    const recipe = { source: { path: "m" }, quants: { fit: ["7MB", "1GB"], ctx: 256, margin: 0, reserve: "0MB", mix: true } } as Recipe;
    const jobs = quantJobs(recipe, ["Q4_K_M"], { weights: 3_300_000, config });
    expect(jobs.map((j) => j.type)).toEqual(["Q4_K_M", jobs[1]?.type]);
    expect(jobs[1]?.mix?.target.fit).toEqual({ budget: "7MB", ctx: 256 });
    expect(jobs[1]?.mix?.target.bpw).toBeLessThan(8.5);
  });
});
