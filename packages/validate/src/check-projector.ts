import type { FileValidation, GgufValue } from "@gguf-pipeline/core";

type GgufCheck = FileValidation["checks"][number];

export interface CheckProjectorParams {
  /** The projector GGUF's metadata (general.type mmproj, general.architecture clip). */
  metadata: Record<string, GgufValue>;
  /** The text model's embedding length: the projector's output must be that wide. */
  textEmbedding?: number;
}

/**
 * A vision projector's own metadata, as llama.cpp's mtmd reads it (tools/mtmd/clip.cpp): a projector type, a vision
 * encoder with its image and patch size, and an output as wide as its text model's embeddings (else mtmd refuses the
 * pair: "mismatch between text model and mmproj").
 */
export function checkProjector(params: CheckProjectorParams): GgufCheck[] {
  const m = params.metadata;
  const text = (key: string) => (typeof m[key] === "string" ? (m[key] as string) : undefined);
  const num = (key: string) => (typeof m[key] === "number" ? (m[key] as number) : undefined);
  const checks: GgufCheck[] = [];
  const type = text("clip.vision.projector_type") ?? text("clip.projector_type");
  checks.push({ name: "projector", ok: Boolean(type) && m["general.architecture"] === "clip", fact: type ? `clip projector of type ${type}` : "no clip.projector_type: llama.cpp cannot tell what projector this is" });
  const vision = m["clip.has_vision_encoder"] === true;
  const [image, patch] = [num("clip.vision.image_size"), num("clip.vision.patch_size")];
  checks.push({ name: "vision encoder", ok: vision && Boolean(image) && Boolean(patch), fact: vision ? `images of ${image ?? "?"} px in patches of ${patch ?? "?"} px` : "clip.has_vision_encoder is not set: no vision encoder" });
  const width = num("clip.vision.projection_dim");
  if (params.textEmbedding !== undefined) {
    checks.push({ name: "fits the text model", ok: width === params.textEmbedding, fact: width === params.textEmbedding ? `projects to ${width}, the text model's embedding length` : `projects to ${width ?? "?"}, but the text model's embedding length is ${params.textEmbedding}: llama.cpp refuses the pair` });
  }
  return checks;
}
