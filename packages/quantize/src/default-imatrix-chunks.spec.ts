import { describe, expect, it } from "vitest";
import { defaultImatrixChunks } from "./default-imatrix-chunks.js";

describe("defaultImatrixChunks", () => {
  it("should give a model as many chunks as the budget pays for, never fewer than 16", () => {
    expect(defaultImatrixChunks({ weights: 135e6, ctx: 512 })).toBe(434);
    expect(defaultImatrixChunks({ weights: 1.7e9, ctx: 512 })).toBe(34);
    expect(defaultImatrixChunks({ weights: 7e9, ctx: 512 })).toBe(16);
  });
});
