import { describe, expect, it } from "vitest";
import { pinnedPackages, readPin } from "./pin.js";

describe("pin", () => {
  it("should pin an exact node-llama-cpp version and a full llama.cpp commit", () => {
    const pin = readPin();
    expect(pin.source.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pin.source.llamaCppCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(pin.cmake.targets).toEqual(expect.arrayContaining(["llama-quantize", "llama-imatrix", "llama-export-lora", "llama-gguf-split", "llama-perplexity", "llama-completion"]));
  });

  it("should pin every Python package to one version", () => {
    expect(pinnedPackages()).toMatchObject({ torch: expect.any(String), transformers: expect.any(String), sentencepiece: expect.any(String), numpy: expect.any(String), safetensors: expect.any(String) });
    expect(pinnedPackages("torch>=2\n# x==1\nnumpy==2.2.6")).toEqual({ numpy: "2.2.6" });
  });
});
