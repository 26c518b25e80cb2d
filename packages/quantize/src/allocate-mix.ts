import { MixTooSmallError } from "./errors.js";
import { mixTensorBytes, type MixType } from "./mix-types.js";
import type { TensorGroup } from "./tensor-groups.js";

export interface Sensitivity {
  /** Mean KLD of the whole model with every group at each type (llama-quantize --pure). */
  pure: Partial<Record<MixType, number>>;
  /** Each group's own share: the mean KLD with that group alone at its fewest bits, all else Q8_0, less all-Q8_0's. */
  groups: Record<string, number>;
  /** The file's bytes outside the groups' tensors (header, norms, tensors no mix type fits). */
  fixedBytes: number;
}

export interface AllocateMixParams {
  groups: TensorGroup[];
  sensitivity: Sensitivity;
  /** The file's size to reach, not to pass. */
  targetBytes: number;
  /** For the error message: the file the mix is for. */
  file: string;
}

export interface MixAllocation {
  /** Group name → type. */
  types: Record<string, MixType>;
  /** The file's size, exactly (llama-quantize's output for these types). */
  bytes: number;
  /** The predicted mean KLD: the groups' shares, each scaled from its fewest bits to its type as the whole model scales. */
  predictedKld: number;
}

/**
 * The types for a size: every group starts at its fewest bits, then the upgrade that buys the most predicted KLD per
 * byte is taken, one type step at a time, as long as the file stays within the target. A group's KLD at a type is its
 * measured share at its fewest bits times how the whole model's KLD scales between those types (pure[t] / pure[q2_k]):
 * the measured per-group shares say where bits matter, the whole-model curve what a step is worth.
 */
export function allocateMix(params: AllocateMixParams): MixAllocation {
  const { groups, sensitivity } = params;
  const lowest = Math.max(sensitivity.pure.q2_k ?? 0, Number.MIN_VALUE);
  const scale = (t: MixType) => (sensitivity.pure[t] ?? 0) / lowest;
  const bytesOf = (g: TensorGroup, t: MixType) => g.tensors.reduce((n, x) => n + mixTensorBytes(t, x.shape), 0);
  // A share measured as negative (noise at the last digit) still costs something: never below a tiny positive share.
  const share = (g: TensorGroup) => Math.max(sensitivity.groups[g.name] ?? 0, 1e-9);
  const step = groups.map(() => 0);
  let bytes = sensitivity.fixedBytes + groups.reduce((n, g) => n + bytesOf(g, g.types[0] ?? "q8_0"), 0);
  if (bytes > params.targetBytes) throw new MixTooSmallError({ file: params.file, targetBytes: params.targetBytes, smallestBytes: bytes });
  for (;;) {
    let best: { i: number; gain: number; extra: number } | undefined;
    for (const [i, g] of groups.entries()) {
      const from = g.types[step[i] ?? 0];
      const to = g.types[(step[i] ?? 0) + 1];
      if (!from || !to) continue;
      const extra = bytesOf(g, to) - bytesOf(g, from);
      if (bytes + extra > params.targetBytes) continue;
      const gain = (share(g) * (scale(from) - scale(to))) / Math.max(extra, 1);
      if (!best || gain > best.gain) best = { i, gain, extra };
    }
    if (!best) break;
    step[best.i] = (step[best.i] ?? 0) + 1;
    bytes += best.extra;
  }
  const types: Record<string, MixType> = {};
  let predictedKld = 0;
  for (const [i, g] of groups.entries()) {
    const t = g.types[step[i] ?? 0] ?? "q8_0";
    types[g.name] = t;
    predictedKld += share(g) * scale(t);
  }
  return { types, bytes, predictedKld };
}
