import { describe, expect, it } from "vitest";
import type { Recipe } from "@gguf-pipeline/core";
import { quantJobs } from "./quant-jobs.js";

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
});
