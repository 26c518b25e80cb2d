import { describe, expect, it } from "vitest";
import type { Recipe } from "@gguf-pipeline/core";
import { listedQuants, quantChoiceSpec, quantJobs } from "./quant-jobs.js";

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
});
