import { describe, expect, it } from "vitest";
import { ggufLibrary, preloadGgufLibrary } from "./gguf-library.js";

describe("ggufLibrary", () => {
  it("should give @huggingface/gguf, loaded once", async () => {
    preloadGgufLibrary();
    await new Promise((done) => setTimeout(done, 10));
    const library = ggufLibrary();
    expect(library.GGMLQuantizationType[library.GGMLQuantizationType.Q4_K]).toBe("Q4_K");
    expect(library.GGMLFileQuantizationType[15]).toBe("Q4_K_M");
    expect(ggufLibrary()).toBe(library);
  });
});
