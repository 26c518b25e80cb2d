import { describe, expect, it } from "vitest";
import { suggest } from "./suggest.js";

describe("suggest", () => {
  it("should find near misses, case-insensitively, and give up on unrelated words", () => {
    expect(suggest("outtyp", ["outtype", "name"])).toBe("outtype");
    expect(suggest("Q8_0", ["q8_0", "f16"])).toBe("q8_0");
    expect(suggest("sourse", ["source", "output"])).toBe("source");
    expect(suggest("banana", ["source", "output"])).toBeUndefined();
  });
});
