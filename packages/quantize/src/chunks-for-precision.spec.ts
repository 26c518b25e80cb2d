import { describe, expect, it } from "vitest";
import { chunksForPrecision } from "./chunks-for-precision.js";

describe("chunksForPrecision", () => {
  it("should ask for n·(error/precision)² chunks, for the least precise quant", () => {
    // 8 chunks at ±10 % → ±5 % needs 4× the tokens.
    expect(chunksForPrecision({ measured: [{ kldMean: 0.1, kldSe: 0.01 }, { kldMean: 0.02, kldSe: 0.0005 }], chunks: 8, precision: 0.05 })).toBe(32);
  });

  it("should never ask for fewer chunks than measured, nor for more for a quant equal to the reference", () => {
    expect(chunksForPrecision({ measured: [{ kldMean: 0.1, kldSe: 0.001 }], chunks: 8, precision: 0.05 })).toBe(8);
    expect(chunksForPrecision({ measured: [{ kldMean: 0, kldSe: 0 }, { kldMean: 0.1, kldSe: Number.NaN }], chunks: 8, precision: 0.05 })).toBe(8);
  });
});
