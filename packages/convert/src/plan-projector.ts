import type { SourceModel } from "./inspect-source.js";

export type ProjectorOuttype = "f32" | "f16" | "bf16" | "q8_0";

/** A vision-language checkpoint's image side, by weight name: its vision tower and the projector into the text model. */
export const visionTensor = /(^|\.)(vision_tower|vision_model|visual|multi_modal_projector|connector|mm_projector)\./;
const bytesPerWeight: Record<ProjectorOuttype, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32 };

/**
 * About how large a vision model's projector GGUF will be, from the source's headers: the image side's weights at the
 * projector's type (its norms and embeddings, kept f32 by the converter, make it a little larger).
 */
export function planProjector(params: { source: SourceModel; outtype: ProjectorOuttype }): { estimatedBytes: number } {
  const weights = Object.entries(params.source.shapes)
    .filter(([name]) => visionTensor.test(name))
    .reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  return { estimatedBytes: Math.ceil(weights * bytesPerWeight[params.outtype]) };
}
