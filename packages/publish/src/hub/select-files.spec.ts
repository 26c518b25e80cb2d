import { describe, expect, it } from "vitest";
import type { Artifact } from "@gguf-pipeline/core";
import { globRegExp, selectFiles } from "./select-files.js";

const file = (path: string, stage = "quantize"): Artifact => ({ path, stage, sha256: "0".repeat(64), bytes: 1, cacheKey: "k" });
const artifacts = [
  file("Tiny-F16.gguf", "convert"),
  file("Tiny-Q8_0.gguf"),
  file("Tiny-Q4_K_M-00001-of-00002.gguf"),
  file("Tiny-Q4_K_M-00002-of-00002.gguf"),
  file("Tiny.imatrix.gguf", "imatrix"),
  file("LICENSE", "license"),
];
const names = (patterns?: string[]) => selectFiles({ artifacts, patterns }).map((a) => a.path);

describe("selectFiles", () => {
  it("should keep every file without patterns", () => {
    expect(names()).toHaveLength(artifacts.length);
    expect(names([])).toHaveLength(artifacts.length);
  });

  it("should keep the files a pattern names, a shard set by its name, and always the license files", () => {
    expect(names(["*Q8_0*"])).toEqual(["Tiny-Q8_0.gguf", "LICENSE"]);
    expect(names(["Tiny-Q4_K_M.gguf"])).toEqual(["Tiny-Q4_K_M-00001-of-00002.gguf", "Tiny-Q4_K_M-00002-of-00002.gguf", "LICENSE"]);
    expect(names(["*-{F16,Q8_0}.gguf", "*.imatrix.*"])).toEqual(["Tiny-F16.gguf", "Tiny-Q8_0.gguf", "Tiny.imatrix.gguf", "LICENSE"]);
  });
});

describe("globRegExp", () => {
  it("should read *, ?, ** and character classes as globs do", () => {
    expect(globRegExp("*.gguf").test("a.gguf")).toBe(true);
    expect(globRegExp("*.gguf").test("dir/a.gguf")).toBe(false);
    expect(globRegExp("**/*.gguf").test("dir/sub/a.gguf")).toBe(true);
    expect(globRegExp("**/*.gguf").test("a.gguf")).toBe(true);
    expect(globRegExp("Q?_0").test("Q8_0")).toBe(true);
    expect(globRegExp("Q[48]_0").test("Q5_0")).toBe(false);
    expect(globRegExp("Q[!4]_0").test("Q5_0")).toBe(true);
    expect(globRegExp("a.b").test("axb")).toBe(false);
  });
});
