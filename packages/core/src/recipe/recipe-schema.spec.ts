import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { recipeSchema } from "./recipe-schema.js";

describe("recipe.schema.json", () => {
  it("should be exactly the schema in code (the build writes it; commit the result)", async () => {
    const published = JSON.parse(await readFile(new URL("../../recipe.schema.json", import.meta.url), "utf8")) as unknown;
    expect(published).toEqual(recipeSchema);
  });
});
