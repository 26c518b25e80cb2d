import { describe, expect, it } from "vitest";
import { cosine, parallelSequences } from "./embed-texts.js";

describe("cosine", () => {
  it("should be 1 for the same direction, 0 for orthogonal vectors and for a zero vector", () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(cosine([1, 0], [-1, 0])).toBe(-1);
  });
});

describe("parallelSequences", () => {
  it("should be the next power of two between 2 and 128", () => {
    expect([1, 2, 3, 4, 5, 33, 48, 64, 65, 128, 300].map(parallelSequences)).toEqual([2, 2, 4, 4, 8, 64, 64, 64, 128, 128, 128]);
  });
});
