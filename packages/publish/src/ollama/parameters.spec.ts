import { describe, expect, it } from "vitest";
import { checkOllamaParameters, ollamaParameterTypes } from "./parameters.js";

describe("checkOllamaParameters", () => {
  it("should accept Ollama's names with their types and turn a single stop into a list", () => {
    const out = checkOllamaParameters({ num_ctx: 4096, temperature: 0.7, top_k: 40, use_mmap: false, stop: "</s>", seed: -1 });
    expect(out.problems).toEqual([]);
    expect(out.values).toEqual({ num_ctx: 4096, temperature: 0.7, top_k: 40, use_mmap: false, stop: ["</s>"], seed: -1 });
    expect(checkOllamaParameters({ stop: ["a", "b"] }).values).toEqual({ stop: ["a", "b"] });
  });

  it("should refuse what Ollama would store silently: unknown names and mistyped values", () => {
    const out = checkOllamaParameters({ bogus: 1, num_ctx: "abc", temprature: 0.2, top_k: 1.5, use_mmap: "yes", stop: [1], num_batch: 0, top_p: Number.NaN });
    expect(out.values).toEqual({});
    expect(out.problems).toEqual([
      { key: "bogus", message: '"bogus" is not an Ollama parameter', hint: expect.stringContaining("num_ctx, num_batch") as unknown },
      { key: "num_ctx", message: 'num_ctx must be an integer, not "abc"', hint: "give num_ctx a whole number" },
      { key: "temprature", message: '"temprature" is not an Ollama parameter', hint: 'did you mean "temperature"?' },
      { key: "top_k", message: "top_k must be an integer, not 1.5", hint: "give top_k a whole number" },
      { key: "use_mmap", message: 'use_mmap must be true or false, not "yes"', hint: "give use_mmap true or false" },
      { key: "stop", message: "stop must be a string or a list of non-empty strings, not [1]", hint: expect.stringContaining("list of strings") as unknown },
      { key: "num_batch", message: "num_batch must be at least 1, not 0", hint: "give num_batch a whole number" },
      { key: "top_p", message: "top_p must be a number, not NaN", hint: "give top_p a number" },
    ]);
  });

  it("should name a deprecated parameter as such", () => {
    expect(checkOllamaParameters({ mirostat: 2 }).problems).toEqual([{ key: "mirostat", message: 'Ollama no longer uses the parameter "mirostat"', hint: "remove it" }]);
  });

  it("should know every Options and Runner field of Ollama v0.24.0", () => {
    expect(Object.keys(ollamaParameterTypes).sort()).toEqual(
      ["frequency_penalty", "main_gpu", "min_p", "num_batch", "num_ctx", "num_gpu", "num_keep", "num_predict", "num_thread", "presence_penalty", "repeat_last_n", "repeat_penalty", "seed", "stop", "temperature", "top_k", "top_p", "typical_p", "use_mmap"].sort(),
    );
  });
});
