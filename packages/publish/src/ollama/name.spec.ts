import { describe, expect, it } from "vitest";
import { ollamaModelRef, ollamaNameProblem, ollamaTagOf } from "./name.js";

describe("ollamaNameProblem", () => {
  it("should accept model, namespace/model and host/namespace/model names", () => {
    for (const name of ["tiny", "me/tiny", "registry.example.com/team/tiny", "127.0.0.1:5000/library/tiny-1.5b", "a_b"]) expect(ollamaNameProblem(name), name).toBeUndefined();
  });

  it("should refuse a tag, too many parts, a dotted namespace and bad characters", () => {
    expect(ollamaNameProblem("tiny:v1")).toMatch(/already has a tag \(":v1"\)/);
    expect(ollamaNameProblem("127.0.0.1:5000/library/tiny:q4")).toMatch(/already has a tag/);
    expect(ollamaNameProblem("a/b/c/d")).toMatch(/4 parts/);
    expect(ollamaNameProblem("my.team/tiny")).toMatch(/not a valid Ollama namespace/);
    expect(ollamaNameProblem("-tiny")).toMatch(/not a valid Ollama model name/);
    expect(ollamaNameProblem(`${"x".repeat(81)}`)).toMatch(/at most 80/);
  });
});

describe("tags", () => {
  it("should name a tag by its type in lower case", () => {
    expect(ollamaTagOf("Q4_K_M")).toBe("q4_k_m");
    expect(ollamaModelRef("me/tiny", ollamaTagOf("IQ2_XXS"))).toBe("me/tiny:iq2_xxs");
  });
});
