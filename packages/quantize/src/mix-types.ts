import { ggmlTypeSizes, ggufLibrary } from "@gguf-pipeline/core";

/** The types a mix gives its tensor groups, fewest bits first (llama-quantize --tensor-type names). */
export const mixTypes = ["q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"] as const;
export type MixType = (typeof mixTypes)[number];

/** ggml's block facts for a mix type (core's table of the GGUF format's facts). */
function block(type: MixType): { weights: number; bytes: number } {
  const size = ggmlTypeSizes()[ggufLibrary().GGMLQuantizationType[type.toUpperCase() as Uppercase<MixType>]];
  if (!size) throw new Error(`no block size for ${type}`);
  return { weights: size.blockSize, bytes: size.typeSize };
}

/** GGUF's default data alignment: every tensor's data starts at a multiple of it. */
const alignment = 32;

/** Whether a tensor whose rows are `rowLength` weights long can take the type (else llama-quantize falls back). */
export function mixTypeFits(type: MixType, rowLength: number): boolean {
  return rowLength % block(type).weights === 0;
}

/** The bytes a tensor of this shape (ggml order: row length first) takes in a GGUF at the type, padding included. */
export function mixTensorBytes(type: MixType, shape: readonly number[]): number {
  const b = block(type);
  const weights = shape.reduce((x, y) => x * y, 1);
  return Math.ceil(((weights / b.weights) * b.bytes) / alignment) * alignment;
}

export interface MixLabel {
  /** The quant label the Hub parses from the file name (`<name>-<label>.gguf`): Q2_K_XL … Q6_K_XL. */
  label: string;
  /** The llama-quantize file type the mix is made with (general.file_type; every tensor group's type is set). */
  ftype: string;
}

// llama.cpp's K presets and their usual bits per weight on a 7B model: a mix is named after the one its size is
// closest to.
const presets = [
  { n: 2, ftype: "Q2_K", bpw: 2.96 },
  { n: 3, ftype: "Q3_K_M", bpw: 3.91 },
  { n: 4, ftype: "Q4_K_M", bpw: 4.85 },
  { n: 5, ftype: "Q5_K_M", bpw: 5.69 },
  { n: 6, ftype: "Q6_K", bpw: 6.56 },
];

/**
 * A mix's name by its bits per weight: `Q<n>_K_XL` after the K preset whose usual size it is closest to (Q2_K 2.96,
 * Q3_K_M 3.91, Q4_K_M 4.85, Q5_K_M 5.69, Q6_K 6.56 bpw). The Hub's GGUF parser knows these labels (from unsloth's
 * per-layer "dynamic" files), so a mix gets a quant label of its own, apart from the standard file of its size
 * (`ollama run hf.co/…:Q4_K_XL` picks it, `:Q4_K_M` the standard one). Made with that preset as its file type.
 */
export function mixLabel(params: { bpw: number }): MixLabel {
  const nearest = presets.reduce((best, p) => (Math.abs(p.bpw - params.bpw) < Math.abs(best.bpw - params.bpw) ? p : best));
  return { label: `Q${nearest.n}_K_XL`, ftype: nearest.ftype };
}
