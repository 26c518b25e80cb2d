import { describe, expect, it } from "vitest";
import { PublishError } from "../errors.js";
import { splitPlan } from "./split-plan.js";

describe("splitPlan", () => {
  it("should split by whole megabytes, keeping the header's room free in every part", () => {
    const tensors = Array.from({ length: 10 }, () => 10_000_000);
    // 50 MB limit, 2 MB header: parts of at most 48 MB of tensors, four tensors each.
    expect(splitPlan({ file: "m.gguf", maxFileBytes: 50_000_000, headerBytes: 2_000_000, tensorBytes: tensors })).toEqual({ args: ["--split-max-size", "48M"], parts: 3 });
  });

  it("should count parts as llama-gguf-split does: a new part when the next tensor would overflow", () => {
    const plan = splitPlan({ file: "m.gguf", maxFileBytes: 50e9, headerBytes: 8e6, tensorBytes: [30e9, 15e9, 10e9, 40e9, 1e9] });
    expect(plan.args).toEqual(["--split-max-size", "49992M"]);
    expect(plan.parts).toBe(3);
  });

  it("should fall back to a tensor count under the tool's 1 MB unit, with every part under the limit", () => {
    const tensors = [4096, 4096, 8192, 2048, 2048, 8192, 1024];
    const plan = splitPlan({ file: "m.gguf", maxFileBytes: 20_000, headerBytes: 6000, tensorBytes: tensors });
    // 14 000 bytes of tensors per part: groups of 2 are (8192, 10240, 10240, 1024), a group of 3 would reach 16 384.
    expect(plan).toEqual({ args: ["--split-max-tensors", "2"], parts: 4 });
  });

  it("should refuse a limit that even one tensor and the header exceed", () => {
    expect(() => splitPlan({ file: "m.gguf", maxFileBytes: 10_000, headerBytes: 6000, tensorBytes: [8192] })).toThrow(PublishError);
  });
});
