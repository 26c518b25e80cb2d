import { describe, expect, it } from "vitest";
import { evaluationBatches, spreadOrder } from "./evaluation-batches.js";

describe("evaluationBatches", () => {
  it("should pair runs of a little over a chunk from all through the text, a short last run joining the one before", () => {
    const paragraphs = Array.from({ length: 9 }, (_, i) => ({ text: `p${i}`, tokens: i === 8 ? 100 : 600 }));
    // ctx 1000: runs of ≥ 1050 tokens → [p0 p1] [p2 p3] [p4 p5] [p6 p7 p8].
    const batches = evaluationBatches({ paragraphs, separator: "\n\n", ctx: 1000 });
    expect(batches).toEqual([
      { text: "p0\n\np1\n\np4\n\np5\n", chunks: 2 },
      { text: "p2\n\np3\n\np6\n\np7\n\np8\n", chunks: 2 },
    ]);
  });

  it("should give no batch for a text of fewer than two runs", () => {
    expect(evaluationBatches({ paragraphs: [{ text: "a", tokens: 5000 }], separator: "\n", ctx: 1000 })).toEqual([]);
  });
});

describe("spreadOrder", () => {
  it("should visit every index once, each prefix spread over the range", () => {
    expect(spreadOrder(8)).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
    expect(spreadOrder(5)).toEqual([0, 4, 2, 1, 3]);
    expect(spreadOrder(1)).toEqual([0]);
  });
});
