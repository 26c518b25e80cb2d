import { describe, expect, it } from "vitest";
import { ggufModelName } from "./gguf-model-name.js";

describe("ggufModelName", () => {
  it("should make a Phi-3 fine-tune's name say Phi-3, so llama.cpp applies its tokenizer's whitespace rule", () => {
    expect(ggufModelName({ name: "My-Finetune", architecture: "Phi3ForCausalLM", files: ["tokenizer.model", "config.json"] })).toBe("My-Finetune (Phi-3)");
    expect(ggufModelName({ name: "my-phi3-tune", architecture: "Phi3ForCausalLM", files: ["tokenizer.model"] })).toBe("my-phi3-tune");
    // Phi-4: the same architecture with a BPE vocabulary, which the rule does not concern.
    expect(ggufModelName({ name: "My-Phi4-Tune", architecture: "Phi3ForCausalLM", files: ["tokenizer.json", "vocab.json", "merges.txt"] })).toBe("My-Phi4-Tune");
    expect(ggufModelName({ name: "Tiny", architecture: "LlamaForCausalLM", files: ["tokenizer.model"] })).toBe("Tiny");
  });
});
