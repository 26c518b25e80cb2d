import { describe, expect, it } from "vitest";
import { findGgmlTypeName } from "./ggml-type-names.js";

describe("findGgmlTypeName", () => {
  it("should find a type in any case, as ggml spells it, and nothing for a quant mixture or a removed type", () => {
    expect(findGgmlTypeName("Q8_0")).toBe("q8_0");
    expect(findGgmlTypeName(" q6_k ")).toBe("q6_K");
    expect(findGgmlTypeName("BF16")).toBe("bf16");
    // Q4_K_M is a file type (a mixture), not a tensor type; Q4_0_4_4 was removed from ggml.
    expect(findGgmlTypeName("Q4_K_M")).toBeUndefined();
    expect(findGgmlTypeName("q4_0_4_4")).toBeUndefined();
    expect(findGgmlTypeName("DEPRECATED")).toBeUndefined();
  });
});
