import { describe, expect, it } from "vitest";
import { formatCount, formatDuration } from "./format-duration.js";

describe("formatDuration", () => {
  it("should say seconds, minutes or hours", () => {
    expect([formatDuration(0.2), formatDuration(40), formatDuration(700), formatDuration(12_600), formatDuration(Number.NaN)]).toEqual(["1 s", "40 s", "12 min", "3.5 h", "?"]);
  });
});

describe("formatCount", () => {
  it("should say a weight count as model cards do", () => {
    expect([formatCount(135e6), formatCount(1.71e9), formatCount(52_000)]).toEqual(["135M", "1.7B", "52K"]);
  });
});
