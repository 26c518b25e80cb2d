import { describe, expect, it } from "vitest";
import { formatBytes } from "./format-bytes.js";

describe("formatBytes", () => {
  it("should print decimal units with three significant figures at most, as the Hub does", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(143_360)).toBe("143 KB");
    expect(formatBytes(4_100_000_000)).toBe("4.1 GB");
    expect([1_234_567, 50e12, 2.5e15].map(formatBytes)).toEqual(["1.2 MB", "50.0 TB", "2500 TB"]);
  });
});
