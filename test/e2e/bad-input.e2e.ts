import { open, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { cli, copyTiny, listTree, tempDir, writeRecipe } from "../helpers.js";

/**
 * Each bad input: exit 2, exactly one error line naming the file and the fix, and the output folder as it was.
 * The output folder already holds a file from "an earlier run" that must survive untouched.
 */
describe("bad input", () => {
  let work: string;
  let model: string;
  let outDir: string;

  beforeEach(async () => {
    work = await tempDir("bad");
    model = await copyTiny(work);
    outDir = join(work, "out");
    await writeRecipe(outDir, "earlier result\n", "keep.txt");
  });

  async function expectRejected(recipe: unknown, pattern: RegExp, recipeName = "recipe.json"): Promise<void> {
    const file = await writeRecipe(work, recipe, recipeName);
    const before = await listTree(outDir);
    for (const command of ["validate", "run"]) {
      const result = await cli([command, file]);
      expect(result.exitCode, result.all).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(await listTree(outDir)).toEqual(before);
      expect(await readFile(join(outDir, "keep.txt"), "utf8")).toBe("earlier result\n");
    }
  }

  it("should reject a missing source folder", async () => {
    await expectRejected({ source: { path: "no-such-model" } }, /^error: .*\/no-such-model: source model folder does not exist — set source\.path in .*recipe\.json to a Hugging Face model folder/);
  });

  it("should reject a folder without safetensors", async () => {
    await rm(join(model, "model.safetensors"));
    await expectRejected({ source: { path: "model" } }, /^error: .*\/model: no \*\.safetensors files in the source folder — /);
  });

  it("should reject a safetensors file whose header is corrupt", async () => {
    const handle = await open(join(model, "model.safetensors"), "r+");
    await handle.write(Buffer.from("#"), 0, 1, 8);
    await handle.close();
    await expectRejected({ source: { path: "model" } }, /^error: .*\/model\.safetensors: safetensors header is corrupt \(not JSON.* — re-download or re-save this file/);
  });

  it("should reject a truncated safetensors file", async () => {
    const file = join(model, "model.safetensors");
    await truncate(file, (await stat(file)).size - 4096);
    await expectRejected({ source: { path: "model" } }, /^error: .*\/model\.safetensors: safetensors file is truncated \(tensor data ends at byte \d+, file has \d+\) — re-download/);
  });

  it("should reject an architecture llama.cpp cannot convert", async () => {
    const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(model, "config.json"), JSON.stringify({ ...config, architectures: ["TotallyNewForCausalLM"] }));
    await expectRejected({ source: { path: "model" } }, /^error: .*\/config\.json: architecture TotallyNewForCausalLM is not supported by the pinned llama\.cpp converter — /);
  });

  it("should reject a misspelt recipe key with the line and a suggestion", async () => {
    await expectRejected('{\n  "source": { "path": "model" },\n  "convert": { "outype": "f16" }\n}\n', /^error: .*recipe\.json:3: unknown key "outype" in \$\.convert — did you mean "outtype"\?$/);
  });

  it("should reject an unknown outtype with a suggestion", async () => {
    await expectRejected('{\n  "source": { "path": "model" },\n  "convert": { "outtype": "q8" }\n}\n', /^error: .*recipe\.json:3: \$\.convert\.outtype is "q8", which is not one of f32, f16, bf16, q8_0, auto — did you mean "q8_0"\?$/);
  });

  it("should reject usage errors with exit 2", async () => {
    const result = await cli(["run"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe("error: run takes one RECIPE — run `pipeline --help`");
    expect((await cli(["inspect", join(work, "recipe-that-is-not.gguf")])).exitCode).toBe(2);
  });
});
