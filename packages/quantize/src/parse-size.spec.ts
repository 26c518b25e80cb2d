import { describe, expect, it } from "vitest";
import { parseFileSize, parseSplitSize } from "./parse-size.js";

describe("parseSplitSize", () => {
  it("should read whole M and G sizes as llama-gguf-split does (decimal units) and nothing else", () => {
    expect(parseSplitSize("48G")).toBe(48e9);
    expect(parseSplitSize("500M")).toBe(500e6);
    for (const bad of ["48", "1.5G", "48GB", "48 gigs", "0G", "-1M", ""]) expect(parseSplitSize(bad), bad).toBeUndefined();
  });
});

describe("parseFileSize", () => {
  it("should read bytes and decimal or binary units, and nothing else", () => {
    expect(parseFileSize("4.5GB")).toBe(4.5e9);
    expect(parseFileSize("2 MiB")).toBe(2 * 2 ** 20);
    expect(parseFileSize("1800000")).toBe(1_800_000);
    for (const bad of ["4.5G", "big", "0", "-1MB", ""]) expect(parseFileSize(bad), bad).toBeUndefined();
  });
});
