import { describe, expect, it } from "vitest";
import { pickGguf } from "./pick-gguf.js";
import { pickProjector } from "./pick-projector.js";

describe("pickProjector", () => {
  it("should give the model its repo's mmproj file, and none to a text-only repo", () => {
    const paths = ["README.md", "Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf", "mmproj-Tiny-F16.gguf"];
    expect(pickProjector({ paths, model: "Tiny-Q4_K_M.gguf" })).toBe("mmproj-Tiny-F16.gguf");
    expect(pickProjector({ paths: ["Tiny-Q4_K_M.gguf", "Tiny.imatrix.gguf"], model: "Tiny-Q4_K_M.gguf" })).toBeUndefined();
    // The projector is never the model a tag picks, even a tag that matches its label.
    expect(() => pickGguf({ paths, tag: "F16" })).toThrow(/not available/);
  });

  it("should take the projector closest in bits to the model's quant, as llama.cpp's -hf does", () => {
    const paths = ["Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf", "Tiny-F16.gguf", "mmproj-Tiny-F16.gguf", "mmproj-Tiny-Q8_0.gguf", "mmproj-Tiny-bf16.gguf"];
    expect(pickProjector({ paths, model: "Tiny-Q8_0.gguf" })).toBe("mmproj-Tiny-Q8_0.gguf");
    expect(pickProjector({ paths, model: "Tiny-Q4_K_M.gguf" })).toBe("mmproj-Tiny-Q8_0.gguf");
    // F16 and BF16 are both 16 bits: the first in path order wins.
    expect(pickProjector({ paths, model: "Tiny-F16.gguf" })).toBe("mmproj-Tiny-F16.gguf");
  });

  it("should look in the model's folder and the folders above it only, the deepest first, and skip shards", () => {
    const paths = ["mmproj-root-F16.gguf", "q4/Tiny-Q4_K_M.gguf", "q4/mmproj-Tiny-F16.gguf", "other/mmproj-Tiny-Q4_K_M.gguf", "mmproj-Big-F16-00001-of-00002.gguf"];
    expect(pickProjector({ paths, model: "q4/Tiny-Q4_K_M.gguf" })).toBe("q4/mmproj-Tiny-F16.gguf");
    expect(pickProjector({ paths: paths.filter((p) => !p.startsWith("q4/mmproj")), model: "q4/Tiny-Q4_K_M.gguf" })).toBe("mmproj-root-F16.gguf");
    expect(pickProjector({ paths: ["Tiny-Q4_K_M.gguf", "sub/mmproj-Tiny-F16.gguf", "mmproj-Big-F16-00001-of-00002.gguf"], model: "Tiny-Q4_K_M.gguf" })).toBeUndefined();
  });
});
