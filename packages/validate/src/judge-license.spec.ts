import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LicenseError } from "./errors.js";
import { findLicense } from "./find-license.js";
import { judgeLicense, type JudgeLicenseParams } from "./judge-license.js";

const fixtures = fileURLToPath(new URL("../fixtures/licenses/", import.meta.url));
const at = (name: string) => join(fixtures, name);
const recipeFile = "recipe.json";

async function judge(name: string, more: Partial<JudgeLicenseParams> = {}) {
  return judgeLicense({ recipeFile, source: await findLicense({ dir: at(name) }), ...more });
}

/** The one line the CLI prints for a refusal. */
async function refusal(run: Promise<unknown>): Promise<string> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LicenseError);
  return (error as LicenseError).toLine();
}

describe("judgeLicense on real-world model cards", () => {
  it("apache-2.0: passes, ships nothing it does not have, needs no link", async () => {
    expect(await judge("apache-2.0")).toMatchObject({ license: "apache-2.0", ship: [], write: [], warnings: [] });
  });

  it("mit: passes, ships its LICENSE, keeps the card's license_link", async () => {
    const verdict = await judge("mit");
    expect(verdict).toMatchObject({ license: "mit", link: "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/resolve/main/LICENSE" });
    expect(verdict.ship.map((s) => s.to)).toEqual(["LICENSE"]);
  });

  it("llama3.1 with its license file: ships LICENSE and USE_POLICY.md and links the terms", async () => {
    const verdict = await judge("llama3.1");
    expect(verdict).toMatchObject({ license: "llama3.1", link: "https://llama.meta.com/llama3_1/license/", write: [] });
    expect(verdict.ship.map((s) => s.to)).toEqual(["LICENSE", "USE_POLICY.md"]);
    expect(verdict.from).toMatch(/llama3\.1[/\\]README\.md \(license\)$/);
  });

  it("llama3.1 without its license file: refused, naming the folder", async () => {
    const source = { ...(await findLicense({ dir: at("llama3.1") })), files: [] };
    const line = await refusal(Promise.resolve().then(() => judgeLicense({ recipeFile, source })));
    expect(line).toMatch(/llama3\.1: llama3\.1 requires its license text to travel with the model, and there is no LICENSE file — put the license file in the source folder/);
  });

  it("gemma: passes and writes the Notice the Gemma terms require", async () => {
    const verdict = await judge("gemma");
    expect(verdict).toMatchObject({ license: "gemma", link: "https://ai.google.dev/gemma/terms", ship: [] });
    expect(verdict.write).toEqual([{ to: "NOTICE", text: "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms\n" }]);
  });

  it("cc-by-nc-4.0: refused until the recipe acknowledges non-commercial use", async () => {
    expect(await refusal(judge("cc-by-nc-4.0"))).toBe(
      'recipe.json: the result\'s license cc-by-nc-4.0 (from ' + join(at("cc-by-nc-4.0"), "README.md") + ' (license)) forbids commercial use — acknowledge it with "licensePolicy": { "acceptNonCommercial": true } in recipe.json',
    );
    expect(await judge("cc-by-nc-4.0", { acceptNonCommercial: true })).toMatchObject({ license: "cc-by-nc-4.0" });
  });

  it("other + license_link: passes with the link and the name, shipping the LICENSE it has", async () => {
    const verdict = await judge("other-link");
    expect(verdict).toMatchObject({ license: "other", name: "qwen", link: "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE" });
    expect(verdict.ship.map((s) => s.to)).toEqual(["LICENSE"]);
  });

  it("other + license_link without the file: refused, since custom terms must travel with the model", async () => {
    expect(await refusal(judge("other-link-no-file"))).toMatch(/other-link-no-file: other requires its license text to travel with the model/);
  });

  it("missing: refused with the fix; passes when the recipe declares the license", async () => {
    expect(await refusal(judge("missing"))).toMatch(/missing: no license found: README\.md front matter has no `license` and there is no LICENSE file — declare the license in recipe\.json as metadata\.license/);
    expect(await judge("missing", { declared: { license: "Apache 2.0" } })).toMatchObject({ license: "apache-2.0", from: recipeFile });
  });

  it("llama3 as `other` with license_name: read as llama3, linked to the LICENSE shipped beside it", async () => {
    const verdict = await judge("llama3-legacy");
    expect(verdict).toMatchObject({ license: "llama3", link: "LICENSE", warnings: [] });
  });
});

describe("judgeLicense rules", () => {
  it("should refuse a recipe license that contradicts the source", async () => {
    expect(await refusal(judge("llama3.1", { declared: { license: "apache-2.0" } }))).toMatch(/^recipe\.json: metadata\.license is apache-2\.0 but .*README\.md says llama3\.1 — a converted model keeps its source's license/);
    expect(await refusal(judge("apache-2.0", { declared: { license: "mit" } }))).toMatch(/metadata\.license is mit but/);
  });

  it("should refuse a license id the Hub does not know", async () => {
    expect(await refusal(judge("apache-2.0", { declared: { license: "apache-3" } }))).toMatch(/metadata\.license "apache-3" is not a Hub license identifier/);
  });

  it("should refuse a source that contradicts itself", async () => {
    expect(await refusal(judge("contradiction"))).toMatch(/the license is contradictory: .*README\.md says apache-2\.0 but .*LICENSE is the mit text/);
  });

  it("should refuse an adapter stricter than the model unless the recipe declares its license", async () => {
    const adapters = [{ name: "nc", found: await findLicense({ dir: at("adapter-cc-by-nc-4.0") }) }];
    expect(await refusal(judge("apache-2.0", { adapters }))).toMatch(/adapter-cc-by-nc-4\.0[/\\]README\.md: adapter "nc" is cc-by-nc-4\.0 \(non-commercial\), stricter than the model's apache-2\.0 — .*declare metadata\.license "cc-by-nc-4\.0"/);
    // Declaring it is not enough on its own: non-commercial still needs the acknowledgement.
    expect(await refusal(judge("apache-2.0", { adapters, declared: { license: "cc-by-nc-4.0" } }))).toMatch(/forbids commercial use/);
    expect(await judge("apache-2.0", { adapters, declared: { license: "cc-by-nc-4.0" }, acceptNonCommercial: true })).toMatchObject({ license: "cc-by-nc-4.0" });
  });

  it("should let a restricted source carry a stricter adapter's license, still shipping the source's terms", async () => {
    const adapters = [{ name: "nc", found: await findLicense({ dir: at("adapter-cc-by-nc-4.0") }) }];
    const verdict = await judge("llama3.1", { adapters, declared: { license: "cc-by-nc-4.0" }, acceptNonCommercial: true });
    expect(verdict).toMatchObject({ license: "cc-by-nc-4.0" });
    expect(verdict.ship.map((s) => s.to)).toEqual(["LICENSE", "USE_POLICY.md"]);
    // Without the adapter, the same declaration drops Llama's terms: refused.
    expect(await refusal(judge("llama3.1", { declared: { license: "cc-by-nc-4.0" }, acceptNonCommercial: true }))).toMatch(/metadata\.license is cc-by-nc-4\.0 but .* says llama3\.1/);
  });

  it("should warn about an adapter without a license (PEFT's default card) and take it as the model's", async () => {
    const adapters = [{ name: "plain", found: await findLicense({ dir: at("adapter-peft-default") }) }];
    const verdict = await judge("apache-2.0", { adapters });
    expect(verdict.warnings).toEqual([expect.stringMatching(/adapter "plain" declares no license; it is taken to be under the model's/)]);
  });

  it("should refuse a dataset stricter than the model unless declared", async () => {
    const datasets = [{ name: "chats", license: "CC-BY-NC-SA-4.0" }];
    expect(await refusal(judge("mit", { datasets }))).toMatch(/^recipe\.json: dataset "chats" is cc-by-nc-sa-4\.0 \(non-commercial, share-alike\), stricter than the model's mit/);
    expect(await judge("mit", { datasets, declared: { license: "cc-by-nc-sa-4.0" }, acceptNonCommercial: true })).toMatchObject({ license: "cc-by-nc-sa-4.0" });
    expect(await judge("mit", { datasets: [{ name: "wiki", license: "cc-by-4.0" }] })).toMatchObject({ license: "mit" });
  });

  it("should ship an adapter's license files under the adapter's name", async () => {
    const adapters = [{ name: "tuned", found: { ...(await findLicense({ dir: at("mit") })) } }];
    const verdict = await judge("llama3.1", { adapters });
    expect(verdict.ship.map((s) => s.to)).toEqual(["LICENSE", "USE_POLICY.md", "tuned.LICENSE"]);
  });

  it("should not count an adapter's license or a use policy alone as the model's terms", async () => {
    const adapters = [{ name: "tuned", found: await findLicense({ dir: at("mit") }) }];
    // Gemma's Notice is still written when only an adapter ships a LICENSE.
    expect((await judge("gemma", { adapters })).write.map((w) => w.to)).toEqual(["NOTICE"]);
    const llama = await findLicense({ dir: at("llama3.1") });
    const onlyPolicy = { ...llama, files: llama.files.filter((f) => f.endsWith("USE_POLICY.md")) };
    expect(await refusal(Promise.resolve().then(() => judgeLicense({ recipeFile, source: onlyPolicy, adapters })))).toMatch(/llama3\.1 requires its license text to travel with the model, and there is no LICENSE file \(only USE_POLICY\.md\)/);
  });

  it("should let the recipe choose among the licenses a card lists, and refuse to guess", async () => {
    const source = { ...(await findLicense({ dir: at("apache-2.0") })), id: "apache-2.0", alternatives: ["apache-2.0", "mit"] };
    expect(await refusal(Promise.resolve().then(() => judgeLicense({ recipeFile, source })))).toMatch(/README\.md: the model card lists several licenses \(apache-2\.0, mit\) — choose one as metadata\.license/);
    expect(judgeLicense({ recipeFile, source, declared: { license: "mit" } })).toMatchObject({ license: "mit" });
  });

  it("should write paths relative to the recipe's folder in what the report keeps", async () => {
    const adapters = [{ name: "plain", found: await findLicense({ dir: at("adapter-peft-default") }) }];
    const verdict = await judge("llama3.1", { adapters, relativeTo: fixtures });
    expect(verdict.from).toBe(join("llama3.1", "README.md") + " (license)");
    expect(verdict.warnings).toEqual(['adapter-peft-default: adapter "plain" declares no license; it is taken to be under the model\'s']);
  });

  it("should make OpenRAIL terms travel: the license text must ship", async () => {
    const source = { ...(await findLicense({ dir: at("apache-2.0") })), id: "bigcode-openrail-m", claims: [] };
    expect(await refusal(Promise.resolve().then(() => judgeLicense({ recipeFile, source })))).toMatch(/bigcode-openrail-m requires its license text to travel with the model/);
    expect(judgeLicense({ recipeFile, source: { ...source, files: [join(at("mit"), "LICENSE")] } })).toMatchObject({ license: "bigcode-openrail-m", link: "LICENSE" });
  });
});
