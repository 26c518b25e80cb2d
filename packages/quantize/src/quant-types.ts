/**
 * The file types the pinned `llama-quantize` accepts (its "allowed quantization types" list), by canonical name.
 * A spec checks this table against the built binary's own list, so a new pin that changes it fails a test.
 */
export interface QuantType {
  /** Canonical name, as llama.cpp and the Hub's file names spell it. */
  name: string;
  /** llama_ftype number (general.file_type). */
  ftype: number;
  /** llama-quantize refuses these without an importance matrix (IQ1/IQ2/IQ3_XXS and Q2_K_S tensors). */
  needsImatrix: boolean;
}

const table: [name: string, ftype: number, needsImatrix?: true][] = [
  ["F32", 0], ["F16", 1], ["BF16", 32],
  ["Q8_0", 7], ["Q4_0", 2], ["Q4_1", 3], ["Q5_0", 8], ["Q5_1", 9], ["Q1_0", 40], ["Q2_0", 41], ["MXFP4_MOE", 38],
  ["Q2_K", 10], ["Q2_K_S", 21, true], ["Q3_K_S", 11], ["Q3_K_M", 12], ["Q3_K_L", 13], ["Q4_K_S", 14], ["Q4_K_M", 15],
  ["Q5_K_S", 16], ["Q5_K_M", 17], ["Q6_K", 18],
  ["IQ1_S", 24, true], ["IQ1_M", 31, true], ["IQ2_XXS", 19, true], ["IQ2_XS", 20, true], ["IQ2_S", 28, true], ["IQ2_M", 29, true],
  ["IQ3_XXS", 23, true], ["IQ3_XS", 22, true], ["IQ3_S", 26], ["IQ3_M", 27], ["IQ4_NL", 25], ["IQ4_XS", 30],
  ["TQ1_0", 36], ["TQ2_0", 37],
];

export const quantTypes: readonly QuantType[] = table.map(([name, ftype, needsImatrix]) => ({ name, ftype, needsImatrix: needsImatrix ?? false }));

/** llama-quantize's own aliases. */
export const quantAliases: Readonly<Record<string, string>> = { Q3_K: "Q3_K_M", Q4_K: "Q4_K_M", Q5_K: "Q5_K_M" };

/** The canonical type for a name in any case (or an alias), or undefined. */
export function findQuantType(name: string): QuantType | undefined {
  const upper = name.trim().toUpperCase();
  const canonical = quantAliases[upper] ?? upper;
  return quantTypes.find((t) => t.name === canonical);
}
