/** The types a mix gives its tensor groups, fewest bits first (llama-quantize --tensor-type names). */
export const mixTypes = ["q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"] as const;
export type MixType = (typeof mixTypes)[number];

// ggml's block facts for these types: weights per block, bytes per block.
const blocks: Record<MixType, { weights: number; bytes: number }> = {
  q2_k: { weights: 256, bytes: 84 },
  q3_k: { weights: 256, bytes: 110 },
  q4_k: { weights: 256, bytes: 144 },
  q5_k: { weights: 256, bytes: 176 },
  q6_k: { weights: 256, bytes: 210 },
  q8_0: { weights: 32, bytes: 34 },
};
/** GGUF's default data alignment: every tensor's data starts at a multiple of it. */
const alignment = 32;

/** Whether a tensor whose rows are `rowLength` weights long can take the type (else llama-quantize falls back). */
export function mixTypeFits(type: MixType, rowLength: number): boolean {
  return rowLength % blocks[type].weights === 0;
}

/** The bytes a tensor of this shape (ggml order: row length first) takes in a GGUF at the type, padding included. */
export function mixTensorBytes(type: MixType, shape: readonly number[]): number {
  const block = blocks[type];
  const weights = shape.reduce((a, b) => a * b, 1);
  return Math.ceil(((weights / block.weights) * block.bytes) / alignment) * alignment;
}

export interface MixLabel {
  /** The quant label the Hub parses from the file name (`<name>-<label>.gguf`): Q2_K_XL … Q6_K_XL. */
  label: string;
  /** The llama-quantize file type the mix is made with (general.file_type; every tensor group's type is set). */
  ftype: string;
}

/**
 * A mix's name by its bits per weight: `Q<n>_K_XL`, n the whole bits (2 to 6). The Hub's GGUF parser knows these labels
 * (from unsloth's per-layer "dynamic" files), so a mix gets a quant label of its own, apart from the standard file of
 * its size (`ollama run hf.co/…:Q4_K_XL` picks it, `:Q4_K_M` the standard one).
 */
export function mixLabel(params: { bpw: number }): MixLabel {
  const n = Math.min(6, Math.max(2, Math.floor(params.bpw)));
  return { label: `Q${n}_K_XL`, ftype: { 2: "Q2_K", 3: "Q3_K_M", 4: "Q4_K_M", 5: "Q5_K_M", 6: "Q6_K" }[n] ?? "Q4_K_M" };
}
