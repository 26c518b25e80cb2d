import { describe, expect, it } from "vitest";
import { checkProjector } from "./check-projector.js";

const gemma3 = { "general.architecture": "clip", "general.type": "mmproj", "clip.projector_type": "gemma3", "clip.has_vision_encoder": true, "clip.vision.image_size": 64, "clip.vision.patch_size": 16, "clip.vision.projection_dim": 64 };

describe("checkProjector", () => {
  it("should pass a projector with a vision encoder whose output is as wide as its text model's embeddings", () => {
    const checks = checkProjector({ metadata: gemma3, textEmbedding: 64 });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([["projector", true], ["vision encoder", true], ["fits the text model", true]]);
    expect(checks[0]?.fact).toBe("clip projector of type gemma3");
  });

  it("should fail a projector made for another text model, and one that names no projector type or encoder", () => {
    expect(checkProjector({ metadata: gemma3, textEmbedding: 128 }).find((c) => c.name === "fits the text model")).toEqual({ name: "fits the text model", ok: false, fact: "projects to 64, but the text model's embedding length is 128: llama.cpp refuses the pair" });
    const bare = checkProjector({ metadata: { "general.architecture": "clip", "general.type": "mmproj" } });
    expect(bare.filter((c) => !c.ok).map((c) => c.name)).toEqual(["projector", "vision encoder"]);
  });

  it("should read the projector type where mixed-modality projectors keep it (clip.vision.projector_type)", () => {
    const { "clip.projector_type": _, ...rest } = gemma3;
    expect(checkProjector({ metadata: { ...rest, "clip.vision.projector_type": "qwen2.5vl_merger" } })[0]?.fact).toBe("clip projector of type qwen2.5vl_merger");
  });
});
