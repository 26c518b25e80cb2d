import { describe, expect, it } from "vitest";
import { formatRate } from "./format-size.js";

describe("formatRate", () => {
  it("should print a rate in the decimal units of sizes", () => {
    expect(formatRate(85_200_000)).toBe("85.2 MB/s");
  });
});
