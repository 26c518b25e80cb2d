import { describe, expect, it } from "vitest";
import { otherNaming } from "./inspect-adapter.js";

describe("otherNaming", () => {
  it("should map transformers' two namings of a vision-language model's weights onto each other", () => {
    expect(otherNaming("model.language_model.layers.0.self_attn.q_proj.weight")).toBe("language_model.model.layers.0.self_attn.q_proj.weight");
    expect(otherNaming("language_model.model.layers.0.self_attn.q_proj.weight")).toBe("model.language_model.layers.0.self_attn.q_proj.weight");
    expect(otherNaming("model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight")).toBe("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight");
    expect(otherNaming("model.layers.0.self_attn.q_proj.weight")).toBeUndefined();
  });
});
