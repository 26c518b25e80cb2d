import { describe, expect, it } from "vitest";
import { splitPassages } from "./evaluate-embeddings.js";

describe("splitPassages", () => {
  it("should take each line as a passage and cut long ones at a word boundary within the limit", () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const passages = splitPassages({ text: `A short first line here.\n\n${long}\nlast one is here`, maxChars: 64, limit: 10 });
    expect(passages[0]).toBe("A short first line here.");
    expect(passages.slice(1, -1).every((p) => p.length <= 56 && !p.startsWith(" ") && /^word\d+( word\d+)*$/.test(p))).toBe(true);
    expect(passages.slice(1, -1).join(" ")).toBe(long);
    expect(passages.at(-1)).toBe("last one is here");
  });

  it("should stop at the limit and drop fragments too short to mean anything", () => {
    expect(splitPassages({ text: "one two three\nx\nfour five six\nseven eight nine", maxChars: 100, limit: 2 })).toEqual(["one two three", "four five six"]);
  });
});
