import { findQuantType } from "./quant-types.js";

/**
 * Roughly how many bytes a quant of `parameters` weights takes, for the disk checks: the nominal bits per weight of the
 * type (a k-quant mix runs a little over its number; embeddings and norms are ignored). With `from` instead, the weights
 * are counted from a file of that type and size (the intermediate a rung is made from).
 */
export function nominalQuantBytes(params: { type: string } & ({ parameters: number } | { from: { type: string; bytes: number } })): number {
  const parameters = "parameters" in params ? params.parameters : (params.from.bytes * 8) / bitsPerWeight(params.from.type);
  return Math.ceil((parameters * bitsPerWeight(params.type)) / 8);
}

function bitsPerWeight(type: string): number {
  const name = findQuantType(type)?.name ?? type;
  const bits: Record<string, number> = { F32: 32, F16: 16, BF16: 16, Q8_0: 8.5, Q6_K: 6.6, Q5_0: 5.5, Q5_1: 6, Q4_0: 4.5, Q4_1: 5, IQ4_NL: 4.5, IQ4_XS: 4.3, Q1_0: 1.1, Q2_0: 2.3, TQ1_0: 1.7, TQ2_0: 2.1, MXFP4_MOE: 4.3 };
  const family = /^(I?Q)(\d)/.exec(name);
  return bits[name] ?? (family?.[2] ? Number(family[2]) + (name.endsWith("_L") ? 1.3 : name.endsWith("_M") ? 1 : 0.6) : 8);
}
