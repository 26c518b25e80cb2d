import { describe, expect, it } from "vitest";
import { exactTensorPattern, tensorGroups } from "./tensor-groups.js";

const layer = (i: number, width = 256) => ["attn_q", "attn_k", "ffn_down"].map((k) => ({ name: `blk.${i}.${k}.weight`, shape: [width, width] }));
const model = (layers: number, width = 256) => [
  { name: "token_embd.weight", shape: [width, 384] },
  { name: "output_norm.weight", shape: [width] },
  ...Array.from({ length: layers }, (_, i) => [...layer(i, width), { name: `blk.${i}.attn_norm.weight`, shape: [width] }]).flat(),
];

describe("tensorGroups", () => {
  it("should give each layer's tensor of each kind, and the embeddings, a group of its own (norms aside)", () => {
    const groups = tensorGroups({ tensors: model(2) });
    expect(groups.map((g) => g.name)).toEqual(["token_embd", "blk.0.attn_q", "blk.0.attn_k", "blk.0.ffn_down", "blk.1.attn_q", "blk.1.attn_k", "blk.1.ffn_down"]);
    expect(groups[0]?.types).toEqual(["q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"]);
  });

  it("should band neighbouring layers when there are more groups than asked for, and keep to the types that fit", () => {
    const groups = tensorGroups({ tensors: model(8, 64), maxGroups: 13 });
    expect(groups.map((g) => g.name).slice(0, 4)).toEqual(["token_embd", "blk.0-1.attn_q", "blk.0-1.attn_k", "blk.0-1.ffn_down"]);
    expect(groups).toHaveLength(13);
    expect(groups[1]?.tensors.map((t) => t.name)).toEqual(["blk.0.attn_q.weight", "blk.1.attn_q.weight"]);
    // Rows of 64 take no K-quant.
    expect(groups[1]?.types).toEqual(["q8_0"]);
  });

  it("should write a pattern that matches one tensor name only", () => {
    const re = new RegExp(exactTensorPattern("blk.1.attn_q.weight"));
    expect(re.test("blk.1.attn_q.weight")).toBe(true);
    expect(re.test("blk.11.attn_q.weight")).toBe(false);
    expect(re.test("blk.1xattn_q.weight")).toBe(false);
  });
});
