import { describe, expect, it } from "vitest";
import { poolBatches } from "./pool-batches.js";

describe("poolBatches", () => {
  it("should weigh batches by their chunks, and give the standard error of the batch means", () => {
    const out = poolBatches({ batches: [{ chunks: 2, kldMean: 0.01 }, { chunks: 2, kldMean: 0.03 }, { chunks: 2, kldMean: 0.02 }] });
    expect(out.kldMean).toBeCloseTo(0.02, 12);
    // Equal batches: sd / √g = 0.01 / √3.
    expect(out.kldSe).toBeCloseTo(0.01 / Math.sqrt(3), 12);
    expect(out.chunks).toBe(6);
    expect(poolBatches({ batches: [{ chunks: 3, kldMean: 0.1 }, { chunks: 1, kldMean: 0.5 }] }).kldMean).toBeCloseTo(0.2, 12);
  });

  it("should not pretend to know the error of a single batch", () => {
    expect(Number.isNaN(poolBatches({ batches: [{ chunks: 2, kldMean: 0.1 }] }).kldSe)).toBe(true);
  });
});
