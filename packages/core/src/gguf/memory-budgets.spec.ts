import { describe, expect, it } from "vitest";
import { parseBudget, smallestBudget } from "./memory-budgets.js";

describe("memory budgets", () => {
  it("should read budgets in binary units", () => {
    expect(parseBudget("8GB")).toBe(8 * 2 ** 30);
    expect(parseBudget("512 MiB")).toBe(512 * 2 ** 20);
    expect(parseBudget("1.5g")).toBe(1.5 * 2 ** 30);
    expect(parseBudget("eight")).toBeUndefined();
  });

  it("should pick the smallest common budget with 10% left over", () => {
    expect(smallestBudget(7 * 2 ** 30)).toBe(8);
    expect(smallestBudget(7.5 * 2 ** 30)).toBe(12);
    expect(smallestBudget(30 * 2 ** 30)).toBeUndefined();
  });
});
