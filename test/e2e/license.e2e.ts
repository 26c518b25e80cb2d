import { copyFile, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gguf } from "@huggingface/gguf";
import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cli, copyTiny, listTree, repoRoot, tempDir, writeRecipe } from "../helpers.js";

const licenseFixtures = join(repoRoot, "packages", "validate", "fixtures", "licenses");

async function meta(file: string): Promise<Record<string, unknown>> {
  return (await gguf(file, { allowLocalFile: true })).metadata as unknown as Record<string, unknown>;
}

/** The tiny model wearing another model card (and its license files). */
async function tinyWithCard(fixture: string, files: string[] = []): Promise<{ work: string; model: string }> {
  const work = await tempDir(`license-${fixture}`);
  const model = await copyTiny(work);
  await copyFile(join(licenseFixtures, fixture, "README.md"), join(model, "README.md"));
  for (const file of files) await copyFile(join(licenseFixtures, fixture, file), join(model, file));
  return { work, model };
}

describe("license policy in a run", () => {
  it("llama3.1: ships LICENSE and USE_POLICY.md beside the GGUFs and stamps general.license and its link in each", async () => {
    const { work, model } = await tinyWithCard("llama3.1", ["LICENSE", "USE_POLICY.md"]);
    const result = await cli(["run", await writeRecipe(work, { name: "Tiny-Llama", source: { path: "model" }, convert: { outtype: "f32" }, quants: ["Q8_0"] })]);
    expect(result.exitCode, result.all).toBe(0);
    const out = join(work, "out");
    expect((await readdir(out)).filter((f) => !f.startsWith(".")).sort()).toEqual(["LICENSE", "Tiny-Llama-F32.gguf", "Tiny-Llama-Q8_0.gguf", "USE_POLICY.md", "report.json"]);
    expect(await readFile(join(out, "LICENSE"), "utf8")).toBe(await readFile(join(model, "LICENSE"), "utf8"));
    for (const file of ["Tiny-Llama-F32.gguf", "Tiny-Llama-Q8_0.gguf"]) {
      expect(await meta(join(out, file)), file).toMatchObject({ "general.license": "llama3.1", "general.license.link": "https://llama.meta.com/llama3_1/license/" });
    }
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as RunReport;
    expect(report.license).toEqual({ id: "llama3.1", link: "https://llama.meta.com/llama3_1/license/", from: "model/README.md (license)", files: ["LICENSE", "USE_POLICY.md"], warnings: [] });
    expect(report.artifacts.filter((a) => a.stage === "license").map((a) => a.path)).toEqual(["LICENSE", "USE_POLICY.md"]);
    expect(report.validation?.files["Tiny-Llama-Q8_0.gguf"]?.checks.find((c) => c.name === "license")).toMatchObject({ ok: true });
    // The human table names the license and what ships with it.
    expect(result.stdout).toMatch(/^license: llama3\.1 from model\/README\.md \(license\) · link https:\/\/llama\.meta\.com\/llama3_1\/license\/ · ships LICENSE, USE_POLICY\.md$/m);
    expect(result.stdout).toMatch(/^Tiny-Llama-Q8_0\.gguf +\d+\/\d+ +pass /m);
  });

  it("gemma: writes the Notice file the Gemma terms require", async () => {
    const { work } = await tinyWithCard("gemma");
    const result = await cli(["run", await writeRecipe(work, { source: { path: "model" }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(join(work, "out", "NOTICE"), "utf8")).toBe("Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms\n");
    expect(await meta(join(work, "out", "model-F32.gguf"))).toMatchObject({ "general.license": "gemma", "general.license.link": "https://ai.google.dev/gemma/terms" });
  });

  it("missing, cc-by-nc-4.0, contradicted: one line, exit 2, the output folder as it was", async () => {
    const cases: { fixture: string; files?: string[]; recipe?: Record<string, unknown>; line: RegExp }[] = [
      { fixture: "missing", line: /^error: .*\/model: no license found: README\.md front matter has no `license` and there is no LICENSE file — declare the license in .*recipe\.json as metadata\.license/ },
      { fixture: "cc-by-nc-4.0", line: /^error: .*recipe\.json: the result's license cc-by-nc-4\.0 \(from .*README\.md \(license\)\) forbids commercial use — acknowledge it with "licensePolicy": \{ "acceptNonCommercial": true \}/ },
      { fixture: "llama3.1", files: ["LICENSE"], recipe: { metadata: { license: "apache-2.0" } }, line: /^error: .*recipe\.json: metadata\.license is apache-2\.0 but .*README\.md says llama3\.1 — a converted model keeps its source's license/ },
    ];
    for (const c of cases) {
      const { work } = await tinyWithCard(c.fixture, c.files);
      const out = join(work, "out");
      await writeRecipe(out, "earlier result\n", "keep.txt");
      const before = await listTree(out);
      const result = await cli(["run", await writeRecipe(work, { ...c.recipe, source: { path: "model" } })]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr.trim().split("\n"), c.fixture).toEqual([expect.stringMatching(c.line)]);
      expect(await listTree(out)).toEqual(before);
    }
  });

  it("a license the recipe declares for a model without one is stamped and reported", async () => {
    const { work, model } = await tinyWithCard("missing");
    await writeFile(join(model, "LICENSE.txt"), "Use these weights kindly.\n");
    // An unidentified license file makes the license `other`, whose terms travel with the model.
    const result = await cli(["run", await writeRecipe(work, { metadata: { license: "other", licenseName: "kind-use" }, source: { path: "model" }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await meta(join(work, "out", "model-F32.gguf"))).toMatchObject({ "general.license": "other", "general.license.name": "kind-use", "general.license.link": "LICENSE.txt" });
    expect(await readFile(join(work, "out", "LICENSE.txt"), "utf8")).toBe("Use these weights kindly.\n");
  });

  it("a stricter license declared over a permissive card: the card's license_link does not survive into the GGUF", async () => {
    const { work } = await tinyWithCard("mit", ["LICENSE"]);
    const result = await cli(["run", await writeRecipe(work, { metadata: { license: "cc-by-nc-4.0" }, licensePolicy: { acceptNonCommercial: true }, source: { path: "model" }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(result.exitCode, result.all).toBe(0);
    const m = await meta(join(work, "out", "model-F32.gguf"));
    expect(m["general.license"]).toBe("cc-by-nc-4.0");
    expect(m).not.toHaveProperty("general.license.link");
    // The source's MIT text still ships: its notice must be kept.
    expect(await readFile(join(work, "out", "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });
});
