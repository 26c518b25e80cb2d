import { mixTypeFits, mixTypes, type MixType } from "./mix-types.js";

export interface GroupTensor {
  name: string;
  /** ggml order: the row length first. */
  shape: number[];
}

export interface TensorGroup {
  /** `token_embd`, `output`, `blk.3.attn_q`, or a band of layers `blk.0-3.ffn_down`. */
  name: string;
  tensors: GroupTensor[];
  /** The mix types every one of its tensors can take, fewest bits first. */
  types: MixType[];
}

export interface TensorGroupsParams {
  tensors: GroupTensor[];
  /** At most this many groups (default 64): beyond it, a kind's layers are taken in bands of neighbours. */
  maxGroups?: number;
}

/**
 * The model's quantizable weights (matrices named `*.weight`, norms aside) as the groups a mix gives one type each:
 * each layer's tensor of each kind, and the embeddings and output on their own. A model with more than `maxGroups`
 * such groups has each kind's layers banded (`blk.0-3.attn_q`), so the sensitivity measurement stays bounded.
 * Tensors that no mix type fits (rows not a multiple of 32) are left to llama-quantize's own choice.
 */
export function tensorGroups(params: TensorGroupsParams): TensorGroup[] {
  const maxGroups = params.maxGroups ?? 64;
  const weights = params.tensors.filter((t) => t.shape.length >= 2 && t.name.endsWith(".weight") && !/norm/.test(t.name));
  const layers = new Set<number>();
  const kinds = new Set<string>();
  const others: GroupTensor[] = [];
  for (const t of weights) {
    const m = /^blk\.(\d+)\.(.+)\.weight$/.exec(t.name);
    if (m) {
      layers.add(Number(m[1]));
      kinds.add(m[2] ?? "");
    } else others.push(t);
  }
  const perBand = Math.max(1, Math.ceil((layers.size * kinds.size) / Math.max(1, maxGroups - others.length)));
  const byName = new Map<string, GroupTensor[]>();
  for (const t of weights) {
    const m = /^blk\.(\d+)\.(.+)\.weight$/.exec(t.name);
    let name = t.name.slice(0, -".weight".length);
    if (m) {
      const layer = Number(m[1]);
      const first = Math.floor(layer / perBand) * perBand;
      name = perBand === 1 ? `blk.${layer}.${m[2]}` : `blk.${first}-${Math.min(first + perBand - 1, Math.max(...layers))}.${m[2]}`;
    }
    byName.set(name, [...(byName.get(name) ?? []), t]);
  }
  const groups: TensorGroup[] = [];
  for (const [name, tensors] of byName) {
    const types = mixTypes.filter((type) => tensors.every((t) => mixTypeFits(type, t.shape[0] ?? 0)));
    if (types.length > 0) groups.push({ name, tensors, types });
  }
  return groups;
}

/** A pattern llama-quantize's --tensor-type matches against exactly one tensor name (it lower-cases patterns). */
export function exactTensorPattern(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}
