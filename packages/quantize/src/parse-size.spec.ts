import { describe, expect, it } from "vitest";
import { parseSplitSize } from "./parse-size.js";

describe("parseSplitSize", () => {
  it("should read whole M and G sizes as llama-gguf-split does (decimal units) and nothing else", () => {
    expect(parseSplitSize("48G")).toBe(48e9);
    expect(parseSplitSize("500M")).toBe(500e6);
    for (const bad of ["48", "1.5G", "48GB", "48 gigs", "0G", "-1M", ""]) expect(parseSplitSize(bad), bad).toBeUndefined();
  });
});
