import { describe, expect, it } from "vitest";
import { allocateMix, type Sensitivity } from "./allocate-mix.js";
import { MixTooSmallError } from "./errors.js";
import { mixTensorBytes, mixTypes } from "./mix-types.js";
import { tensorGroups } from "./tensor-groups.js";

const groups = tensorGroups({ tensors: ["a", "b", "c"].map((k) => ({ name: `blk.0.${k}.weight`, shape: [256, 256] })) });
const sensitivity: Sensitivity = {
  pure: { q2_k: 0.2, q3_k: 0.08, q4_k: 0.03, q5_k: 0.01, q6_k: 0.004, q8_0: 0.001 },
  // b matters ten times as much as a, c almost not at all.
  groups: { "blk.0.a": 0.01, "blk.0.b": 0.1, "blk.0.c": 0.0001 },
  fixedBytes: 1000,
};
const at = (t: "q2_k" | "q4_k" | "q6_k" | "q8_0") => mixTensorBytes(t, [256, 256]);

describe("allocateMix", () => {
  it("should give the bits to the group that moves the output most, and never pass the target", () => {
    const target = 1000 + 3 * at("q4_k");
    const mix = allocateMix({ groups, sensitivity, targetBytes: target, file: "x.gguf" });
    expect(mix.bytes).toBeLessThanOrEqual(target);
    // All three at Q4_K's bytes: b takes the most of them, c the fewest.
    const rank = (g: string) => mixTypes.indexOf(mix.types[g] ?? "q2_k");
    expect(rank("blk.0.b")).toBeGreaterThan(rank("blk.0.a"));
    expect(rank("blk.0.a")).toBeGreaterThanOrEqual(rank("blk.0.c"));
    // Better than every group at Q4_K, by the same prediction.
    expect(mix.predictedKld).toBeLessThan(((0.01 + 0.1 + 0.0001) * 0.03) / 0.2);
  });

  it("should take everything to Q8_0 when the target allows it, and refuse a target below the smallest file", () => {
    expect(Object.values(allocateMix({ groups, sensitivity, targetBytes: 1e9, file: "x.gguf" }).types)).toEqual(["q8_0", "q8_0", "q8_0"]);
    expect(() => allocateMix({ groups, sensitivity, targetBytes: 1000 + at("q2_k"), file: "x.gguf" })).toThrow(MixTooSmallError);
  });
});
