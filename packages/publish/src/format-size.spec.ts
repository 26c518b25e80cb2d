import { describe, expect, it } from "vitest";
import { formatRate, formatSize } from "./format-size.js";

describe("formatSize", () => {
  it("should print decimal units with three significant digits", () => {
    expect([0, 999, 142_720, 1_234_567, 4_100_000_000, 50e12].map(formatSize)).toEqual(["0 B", "999 B", "143 KB", "1.2 MB", "4.1 GB", "50.0 TB"]);
    expect(formatRate(85_200_000)).toBe("85.2 MB/s");
  });
});
