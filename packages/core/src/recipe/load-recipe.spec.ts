import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RecipeError } from "../errors.js";
import { loadRecipe } from "./load-recipe.js";

async function recipe(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "recipe-"));
  const file = join(dir, "recipe.json");
  await writeFile(file, text);
  return file;
}

async function failure(text: string): Promise<RecipeError> {
  const error = await loadRecipe({ file: await recipe(text) }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecipeError);
  return error as RecipeError;
}

describe("loadRecipe", () => {
  it("should resolve relative paths against the recipe's folder and apply defaults", async () => {
    const file = await recipe(JSON.stringify({ source: { path: "model" } }));
    const loaded = await loadRecipe({ file });
    const dir = join(file, "..");
    expect(loaded).toMatchObject({ dir, sourceDir: join(dir, "model"), outDir: join(dir, "out"), outtype: "auto", name: "model" });
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("should let --out override output.dir", async () => {
    const loaded = await loadRecipe({ file: await recipe(JSON.stringify({ source: { path: "/m" }, output: { dir: "x" } })), outDir: "/tmp/elsewhere" });
    expect(loaded.outDir).toBe("/tmp/elsewhere");
  });

  it("should name the line, the JSON path and the likely key for a misspelt key", async () => {
    const error = await failure('{\n  "source": { "path": "m" },\n  "convert": {\n    "outtyp": "f16"\n  }\n}\n');
    expect(error).toMatchObject({ jsonPath: "$.convert.outtyp", line: 4, exitCode: 2, hint: 'did you mean "outtype"?' });
    expect(error.toLine()).toMatch(/recipe\.json:4: unknown key "outtyp" in \$\.convert — did you mean "outtype"\?$/);
  });

  it("should suggest the closest outtype for an unknown one", async () => {
    const error = await failure('{ "source": { "path": "m" }, "convert": { "outtype": "BF61" } }');
    expect(error).toMatchObject({ jsonPath: "$.convert.outtype", line: 1, hint: 'did you mean "bf16"?' });
  });

  it("should point at a top-level misspelling and a missing required key", async () => {
    expect(await failure('{ "source": { "path": "m" },\n "outptu": {} }')).toMatchObject({ line: 2, hint: 'did you mean "output"?' });
    expect(await failure("{}")).toMatchObject({ jsonPath: "$.source", message: 'the recipe needs "source"' });
  });

  it("should report the line of a JSON syntax error", async () => {
    expect(await failure('{\n  "source": { "path": "m" },\n}\n')).toMatchObject({ line: 3, exitCode: 2 });
  });

  it("should refuse a name that cannot be a file name", async () => {
    expect(await failure('{ "name": "../evil", "source": { "path": "m" } }')).toMatchObject({ jsonPath: "$.name" });
  });
});
