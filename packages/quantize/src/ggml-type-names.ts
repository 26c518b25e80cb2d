/**
 * The tensor types llama-quantize's --output-tensor-type, --token-embedding-type and --tensor-type PATTERN=TYPE accept:
 * ggml's type names in the pinned ggml (its parser matches them in any case), without the removed types' placeholders.
 * An e2e test checks this list against the pinned ggml.c, so a new pin that changes it fails a test.
 */
export const ggmlTypeNames: readonly string[] = [
  // The usual ones first: a suggestion for a typo takes the first of the closest names.
  "f32", "f16", "bf16", "q8_0", "q6_K", "q5_K", "q4_K", "q3_K", "q2_K", "q5_0", "q5_1", "q4_0", "q4_1",
  "iq4_xs", "iq4_nl", "iq3_s", "iq3_xxs", "iq2_s", "iq2_xs", "iq2_xxs", "iq1_m", "iq1_s", "tq2_0", "tq1_0",
  "mxfp4", "nvfp4", "q2_0", "q1_0", "q8_1", "q8_K", "f64", "i8", "i16", "i32", "i64",
];

/** The ggml type a name means to llama-quantize (any case), as ggml spells it, or undefined. */
export function findGgmlTypeName(name: string): string | undefined {
  const lower = name.trim().toLowerCase();
  return ggmlTypeNames.find((t) => t.toLowerCase() === lower);
}
