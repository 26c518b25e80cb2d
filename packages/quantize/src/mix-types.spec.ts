import { describe, expect, it } from "vitest";
import { mixLabel, mixTensorBytes, mixTypeFits } from "./mix-types.js";

describe("mixTypes", () => {
  it("should size a tensor as ggml does, padded to the GGUF alignment", () => {
    // 256×256 weights at Q4_K: 256 blocks of 144 bytes.
    expect(mixTensorBytes("q4_k", [256, 256])).toBe(256 * 144);
    // 256×3 at Q2_K: 3 blocks of 84 = 252 bytes, padded to 256.
    expect(mixTensorBytes("q2_k", [256, 3])).toBe(256);
    expect(mixTypeFits("q4_k", 64)).toBe(false);
    expect(mixTypeFits("q8_0", 64)).toBe(true);
  });

  it("should name a mix after the K preset of the nearest size, with a label the Hub parses", () => {
    expect(mixLabel({ bpw: 4.85 })).toEqual({ label: "Q4_K_XL", ftype: "Q4_K_M" });
    // Closer to Q3_K_M's 3.91 than to Q4_K_M's 4.85.
    expect(mixLabel({ bpw: 4.2 })).toEqual({ label: "Q3_K_XL", ftype: "Q3_K_M" });
    expect(mixLabel({ bpw: 2.6 })).toEqual({ label: "Q2_K_XL", ftype: "Q2_K" });
    expect(mixLabel({ bpw: 7.9 })).toEqual({ label: "Q6_K_XL", ftype: "Q6_K" });
  });
});
