import { describe, expect, it } from "vitest";
import { nominalQuantBytes } from "./nominal-size.js";

describe("nominalQuantBytes", () => {
  it("should size a quant by its type's nominal bits per weight", () => {
    expect(nominalQuantBytes({ type: "Q8_0", parameters: 1_000_000 })).toBe(1_062_500);
    expect(nominalQuantBytes({ type: "Q4_K_M", parameters: 1_000_000 })).toBe(625_000);
  });

  it("should count the weights of the file it is made from by that file's type", () => {
    // 1 M weights as F32 (4 MB) and as F16 (2 MB) give the same Q8_0.
    expect(nominalQuantBytes({ type: "Q8_0", from: { type: "F32", bytes: 4_000_000 } })).toBe(1_062_500);
    expect(nominalQuantBytes({ type: "Q8_0", from: { type: "F16", bytes: 2_000_000 } })).toBe(1_062_500);
    expect(nominalQuantBytes({ type: "F32", from: { type: "BF16", bytes: 2_000_000 } })).toBe(4_000_000);
  });
});
