import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, jsonEvents, listTree, llamaComplete, llamaGenerate, makeLoraAdapter, makeTinyModel, peftGenerate, tempDir, tinyModel, writeRecipe } from "../helpers.js";

const prompts = ["The river", "A good tool is", "Numbers help us"];

async function meta(file: string): Promise<Record<string, unknown>> {
  return (await gguf(file, { allowLocalFile: true })).metadata as unknown as Record<string, unknown>;
}

describe("merge: PEFT LoRA adapters", () => {
  let work: string;
  let ad1: string;
  let ad2: string;

  beforeAll(async () => {
    work = await tempDir("merge");
    ad1 = await makeLoraAdapter({ base: tinyModel, out: join(work, "ad1"), seed: 7, rank: 4 });
    ad2 = await makeLoraAdapter({ base: tinyModel, out: join(work, "ad2"), seed: 11, rank: 2, targets: "q_proj,v_proj" });
  });

  it("should merge one adapter into a GGUF that generates what PEFT merge_and_unload generates, and record base and adapter", async () => {
    const dir = join(work, "one");
    const baseModels = [{ name: "Tiny-Llama-Ancestor", organization: "Fixture Org", repoUrl: "https://huggingface.co/fixture-org/tiny-llama-ancestor" }];
    const result = await cli(["run", await writeRecipe(dir, { name: "Tuned", metadata: { baseModels }, source: { path: tinyModel }, convert: { outtype: "f32" }, adapters: [{ path: ad1 }] })]);
    expect(result.exitCode, result.all).toBe(0);
    expect((await readdir(join(dir, "out"))).filter((f) => f.endsWith(".gguf")).sort()).toEqual(["Tuned-F32.gguf", "Tuned-ad1-LoRA-F32.gguf", "Tuned-base-F32.gguf"]);
    const reference = await peftGenerate({ base: tinyModel, adapters: [{ dir: ad1, scale: 1 }], prompts, tokens: 20 });
    const base = await llamaGenerate({ gguf: join(dir, "out", "Tuned-base-F32.gguf"), prompt: prompts[0] ?? "", tokens: 20 });
    for (const ref of reference) {
      expect(ref.newIds.length).toBeGreaterThanOrEqual(16);
      const ours = await llamaGenerate({ gguf: join(dir, "out", "Tuned-F32.gguf"), prompt: ref.prompt, tokens: 20 });
      expect(ours.text, ref.prompt).toBe(ref.text);
    }
    // The adapter matters: the base alone says something else.
    expect(base.text).not.toBe(reference[0]?.text);
    expect(await meta(join(dir, "out", "Tuned-F32.gguf"))).toMatchObject({
      "general.name": "Tuned",
      "general.file_type": 0,
      // The recipe's base models first, then the model the adapter was merged into.
      "general.base_model.count": 2,
      "general.base_model.0.name": "Tiny-Llama-Ancestor",
      "general.base_model.0.organization": "Fixture Org",
      "general.base_model.0.repo_url": "https://huggingface.co/fixture-org/tiny-llama-ancestor",
      "general.base_model.1.name": "model",
      // The license policy's verdict survives llama-export-lora.
      "general.license": "apache-2.0",
      "merge.adapter_count": 1,
      "merge.adapter.0.name": "ad1",
      "merge.adapter.0.scale": 1,
      "merge.adapter.0.rank": 4,
      "merge.adapter.0.alpha": 8,
    });
    const adapterMeta = await meta(join(dir, "out", "Tuned-ad1-LoRA-F32.gguf"));
    expect(adapterMeta).toMatchObject({ "general.type": "adapter", "adapter.type": "lora", "adapter.lora.alpha": 8, "general.name": "ad1", "general.base_model.0.name": "model" });
    expect(JSON.stringify(adapterMeta, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))).not.toContain(tinyModel);

    // The same adapter applied at run time (llama.cpp --lora) gives the same tokens as the merged model.
    for (const prompt of prompts) {
      const runtime = await llamaComplete({ gguf: join(dir, "out", "Tuned-base-F32.gguf"), prompt, tokens: 20, lora: [{ file: join(dir, "out", "Tuned-ad1-LoRA-F32.gguf"), scale: 1 }] });
      const merged = await llamaComplete({ gguf: join(dir, "out", "Tuned-F32.gguf"), prompt, tokens: 20 });
      expect(runtime, prompt).toBe(merged);
    }
  });

  it("should merge two adapters with scales as PEFT's weighted combination, then quantize the merged model", async () => {
    const dir = join(work, "two");
    const result = await cli(["run", await writeRecipe(dir, { name: "Tuned", source: { path: tinyModel }, convert: { outtype: "f32" }, adapters: [{ path: ad1, scale: 0.5 }, { path: ad2, scale: 1.5, name: "second" }], quants: ["Q8_0"] }), "--json"]);
    expect(result.exitCode, result.all).toBe(0);
    const reference = await peftGenerate({ base: tinyModel, adapters: [{ dir: ad1, scale: 0.5 }, { dir: ad2, scale: 1.5 }], prompts, tokens: 20 });
    for (const ref of reference) {
      const ours = await llamaGenerate({ gguf: join(dir, "out", "Tuned-F32.gguf"), prompt: ref.prompt, tokens: 20 });
      expect(ours.text, ref.prompt).toBe(ref.text);
    }
    expect(await meta(join(dir, "out", "Tuned-F32.gguf"))).toMatchObject({ "merge.adapter_count": 2, "merge.adapter.1.name": "second", "merge.adapter.1.scale": 1.5 });
    // The ladder runs on the merged model.
    const q8 = await meta(join(dir, "out", "Tuned-Q8_0.gguf"));
    expect(q8).toMatchObject({ "general.name": "Tuned", "general.file_type": 7, "merge.adapter_count": 2 });

    // Nothing changes: everything is a cache hit.
    const same = await cli(["run", join(dir, "recipe.json"), "--json"]);
    expect(same.exitCode, same.all).toBe(0);
    expect(jsonEvents(same.stdout).filter((e) => e.type === "cache-hit").map((e) => e.stage).sort()).toEqual(["adapter:ad1", "adapter:second", "convert", "merge", "quantize:Q8_0"]);
    // Only the adapter changes: the base conversion is a cache hit, the rest is redone.
    const again = await cli(["run", await writeRecipe(dir, { name: "Tuned", source: { path: tinyModel }, convert: { outtype: "f32" }, adapters: [{ path: ad1, scale: 0.5 }, { path: ad2, scale: 1.0, name: "second" }], quants: ["Q8_0"] }), "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const hits = jsonEvents(again.stdout).filter((e) => e.type === "cache-hit").map((e) => e.stage);
    expect(hits).toEqual(expect.arrayContaining(["convert", "adapter:ad1", "adapter:second"]));
    expect(hits).not.toContain("merge");
    expect(hits).not.toContain("quantize:Q8_0");
  });

  it("should ship the adapter beside the unchanged base with merge: false", async () => {
    const dir = join(work, "keep");
    const result = await cli(["run", await writeRecipe(dir, { name: "Tuned", source: { path: tinyModel }, convert: { outtype: "f16" }, adapters: [{ path: ad1 }], merge: false })]);
    expect(result.exitCode, result.all).toBe(0);
    expect((await readdir(join(dir, "out"))).filter((f) => f.endsWith(".gguf")).sort()).toEqual(["Tuned-F16.gguf", "Tuned-ad1-LoRA-F16.gguf"]);
    expect(await meta(join(dir, "out", "Tuned-F16.gguf"))).not.toHaveProperty("merge.adapter_count");
  });

  it("should refuse a non-commercial adapter on an apache-2.0 model until the recipe declares and acknowledges it", async () => {
    const dir = join(work, "nc");
    const adapter = join(dir, "ad-nc");
    await cp(ad1, adapter, { recursive: true });
    const card = await readFile(join(adapter, "README.md"), "utf8");
    await writeFile(join(adapter, "README.md"), card.replace(/^---\n/, "---\nlicense: cc-by-nc-4.0\n"));
    const refused = await cli(["validate", await writeRecipe(dir, { source: { path: tinyModel }, adapters: [{ path: adapter }] })]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: .*ad-nc\/README\.md: adapter "ad-nc" is cc-by-nc-4\.0 \(non-commercial\), stricter than the model's apache-2\.0 — the result carries its terms: declare metadata\.license "cc-by-nc-4\.0"/)]);
    const declared = await cli(["validate", await writeRecipe(dir, { metadata: { license: "cc-by-nc-4.0" }, licensePolicy: { acceptNonCommercial: true }, source: { path: tinyModel }, adapters: [{ path: adapter }] })]);
    expect(declared.exitCode, declared.all).toBe(0);
    expect(declared.stdout).toMatch(/license {2}cc-by-nc-4\.0 \(from .*recipe\.json\)/);
  });
});

describe("merge: adapter pre-checks fire before any work", () => {
  async function rejected(adapter: string, pattern: RegExp, source = tinyModel): Promise<void> {
    const dir = await tempDir("adapter-bad");
    const file = await writeRecipe(dir, { source: { path: source }, adapters: [{ path: adapter }] });
    for (const command of ["validate", "run"]) {
      const result = await cli([command, file]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(pattern);
      expect(await listTree(join(dir, "out"))).toEqual(["<missing>"]);
    }
  }

  it("should refuse an adapter trained on another base (config and shapes)", async () => {
    const work = await tempDir("other-base");
    const wide = await makeTinyModel({ out: join(work, "wide"), hidden: 128, steps: 2 });
    // Its config names a local base that differs.
    await rejected(await makeLoraAdapter({ base: wide, out: join(work, "named") }), /the adapter's base \(.*wide\) differs from the source model in hidden_size \(128 vs 64\)/);
    // Its base is unknown here; the shapes still give it away.
    await rejected(await makeLoraAdapter({ base: wide, out: join(work, "unnamed"), baseName: "someone/else" }), /lora_A\.weight \[4, \d+\] does not fit the source's model\.layers\.0\.\S+ \[\d+, \d+\] — use the adapter with the model it was trained on/);
  });

  it("should refuse an adapter that trains the embeddings", async () => {
    const work = await tempDir("embed");
    await rejected(await makeLoraAdapter({ base: tinyModel, out: join(work, "a"), modulesToSave: "embed_tokens" }), /the adapter trains embed_tokens \(modules_to_save\/trainable tokens\), which a llama\.cpp adapter cannot carry — merge it in PEFT/);
  });

  it("should refuse lm_head on a model with tied embeddings", async () => {
    const work = await tempDir("tied");
    const tied = join(work, "tied");
    await cp(tinyModel, tied, { recursive: true });
    const config = JSON.parse(await readFile(join(tied, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(tied, "config.json"), JSON.stringify({ ...config, tie_word_embeddings: true }));
    await rejected(await makeLoraAdapter({ base: tinyModel, out: join(work, "a"), targets: "q_proj,lm_head", baseName: "tied" }), /the adapter targets lm_head, but the source model ties lm_head to the token embeddings/, tied);
  });

  it("should refuse a PEFT type other than LoRA, and DoRA", async () => {
    const work = await tempDir("peft-type");
    const ia3 = await makeLoraAdapter({ base: tinyModel, out: join(work, "ia3") });
    const config = JSON.parse(await readFile(join(ia3, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(ia3, "adapter_config.json"), JSON.stringify({ ...config, peft_type: "IA3" }));
    await rejected(ia3, /adapter_config\.json: PEFT type IA3 is not supported: only LoRA adapters are — /);
    await rejected(await makeLoraAdapter({ base: tinyModel, out: join(work, "dora"), dora: true }), /DoRA \(use_dora\) is not supported by llama\.cpp adapters/);
  });
});
