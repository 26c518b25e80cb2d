import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Artifact, RunReport } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { writeModelCard } from "./write-model-card.js";
import type { WriteModelCardParams } from "./write-model-card.js";

const quality = (ppl: number, kldMean: number, top1: number) => ({ kind: "perplexity" as const, ppl, kldMean, kldP99: kldMean * 8, top1, text: "default.txt", ctx: 64 });
const artifacts: Artifact[] = [
  { path: "Tiny-F16.gguf", stage: "convert", sha256: "1".repeat(64), bytes: 257_920, ggufType: "F16", cacheKey: "a", quality: quality(7.123, 0, 100) },
  { path: "Tiny-Q8_0.gguf", stage: "quantize", sha256: "2".repeat(64), bytes: 142_720, ggufType: "Q8_0", cacheKey: "b", quant: { type: "Q8_0", bitsPerWeight: 8.561 }, quality: quality(7.1322, 0.000565, 98.79) },
  { path: "Tiny-Q4_K_M-00001-of-00002.gguf", stage: "quantize", sha256: "3".repeat(64), bytes: 60_000, ggufType: "Q4_K_M", cacheKey: "c", quant: { type: "Q4_K_M", bitsPerWeight: 6.417, imatrix: "Tiny.imatrix.gguf", shard: { index: 1, count: 2 } }, quality: quality(7.1579, 0.015543, 95.565) },
  { path: "Tiny-Q4_K_M-00002-of-00002.gguf", stage: "quantize", sha256: "4".repeat(64), bytes: 49_696, ggufType: "Q4_K_M", cacheKey: "c", quant: { type: "Q4_K_M", bitsPerWeight: 6.417, imatrix: "Tiny.imatrix.gguf", shard: { index: 2, count: 2 } }, quality: quality(7.1579, 0.015543, 95.565) },
  { path: "Tiny.imatrix.gguf", stage: "imatrix", sha256: "5".repeat(64), bytes: 9000, cacheKey: "d" },
  { path: "LICENSE", stage: "license", sha256: "6".repeat(64), bytes: 11_000, cacheKey: "e" },
];
const report: RunReport = {
  schemaVersion: 1,
  recipe: { path: "/home/me/recipe.json", sha256: "f".repeat(64) },
  startedAt: "2025-01-01T00:00:00Z",
  finishedAt: "2025-01-01T00:01:00Z",
  tools: { llamaCppCommit: "de3ff815ea7d559ee917f063901b8986f038abc6", llamaCppSource: "pin", python: "3.11.7", packages: { torch: "2.11.0" }, pipeline: "0.1.0" },
  stages: [],
  artifacts,
  license: { id: "other", name: "tiny-license", link: "LICENSE", from: "model/README.md (license)", files: ["LICENSE"], warnings: [] },
  validation: { allowed: [], files: { "Tiny-F16.gguf": { ok: true, checks: [{ name: "magic", ok: true, fact: "GGUF" }], kind: "text-generation" } } },
};
const base: WriteModelCardParams = {
  repo: "me/tiny-GGUF",
  repoKind: "model",
  report,
  artifacts,
  modelKind: "text-generation",
  hubUrl: "https://huggingface.co",
  baseModel: "org/tiny",
  quantizedBy: "me",
  sourceCard: { license: "apache-2.0", language: ["en"], datasets: ["org/corpus"], tags: ["llama", "gguf", "base_model:org/x"], pipeline_tag: "text-generation" },
};

function frontOf(text: string): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(text);
  return parse(match?.[1] ?? "") as Record<string, unknown>;
}

describe("writeModelCard", () => {
  it("should write the Hub's front matter, carrying the source card's languages, datasets and tags", () => {
    const card = writeModelCard(base);
    expect(frontOf(card.text)).toEqual({
      base_model: "org/tiny",
      base_model_relation: "quantized",
      license: "other",
      license_name: "tiny-license",
      license_link: "LICENSE",
      language: ["en"],
      datasets: ["org/corpus"],
      tags: ["gguf", "llama.cpp", "imatrix", "llama"],
      pipeline_tag: "text-generation",
      library_name: "gguf",
      quantized_by: "me",
    });
    expect(Object.keys(card.frontMatter)).toEqual(Object.keys(frontOf(card.text)));
  });

  it("should name the relation finetune for merged adapters and adapter for an adapter repo, and drop it without a base", () => {
    const merged = { ...report, artifacts: [...artifacts, { path: "Tiny-merged.gguf", stage: "merge", sha256: "7".repeat(64), bytes: 1, cacheKey: "m" }] };
    expect(writeModelCard({ ...base, report: merged }).frontMatter.base_model_relation).toBe("finetune");
    const adapter = writeModelCard({ ...base, repoKind: "adapter", modelRepo: "me/tiny-GGUF", artifacts: [{ path: "Tiny-lora.gguf", stage: "adapter:lora", sha256: "8".repeat(64), bytes: 5, cacheKey: "l" }] });
    expect(adapter.frontMatter).toMatchObject({ base_model: "org/tiny", base_model_relation: "adapter", tags: expect.arrayContaining(["lora"]) });
    expect(adapter.text).toContain("--lora Tiny-lora.gguf");
    const { baseModel: _dropped, ...noBase } = base;
    expect(writeModelCard(noBase).frontMatter).not.toHaveProperty("base_model_relation");
  });

  it("should tag an embedding model for feature extraction (or the source's sentence-similarity) and show cosine columns", () => {
    const card = writeModelCard({ ...base, modelKind: "embedding", sourceCard: { pipeline_tag: "sentence-similarity" } });
    expect(card.frontMatter.pipeline_tag).toBe("sentence-similarity");
    expect(card.text).toContain("| File | Type | Size | Bits/weight | Cosine mean | Cosine min | sha256 |");
    expect(writeModelCard({ ...base, modelKind: "embedding", sourceCard: {} }).frontMatter.pipeline_tag).toBe("feature-extraction");
  });

  it("should list every quant with its size, bits per weight and quality, a split file as one row, and how to run each", () => {
    const { text } = writeModelCard(base);
    expect(text).toContain(`| Tiny-F16.gguf | F16 | 258 KB | — | 7.1230 | 0.000000 | 0.000000 | 100.00% | \`${"1".repeat(64)}\` |`);
    expect(text).toContain(`| Tiny-Q8_0.gguf | Q8_0 | 143 KB | 8.56 | 7.1322 | 0.000565 | 0.004520 | 98.79% | \`${"2".repeat(64)}\` |`);
    expect(text).toContain("| Tiny-Q4_K_M-00001-of-00002.gguf (2 parts) | Q4_K_M | 110 KB | 6.42 | 7.1579 |");
    expect(text).toContain("| Tiny.imatrix.gguf | importance matrix (llama-imatrix), used for the quants |");
    for (const tag of ["F16", "Q8_0", "Q4_K_M"]) {
      expect(text).toContain(`\`llama-cli -hf me/tiny-GGUF:${tag}\``);
      expect(text).toContain(`\`ollama run hf.co/me/tiny-GGUF:${tag}\``);
    }
    expect(text).toContain("LM Studio");
    expect(text).toContain("llama.cpp commit `de3ff815ea7d559ee917f063901b8986f038abc6`");
    expect(text).toContain(`Recipe sha256 \`${"f".repeat(64)}\``);
    expect(text).not.toContain("/home/me");
    expect(text).not.toMatch(/20\d\d-\d\d-\d\d/);
  });

  it("should fill a user template's placeholders, keep our front matter, and refuse an unknown placeholder", () => {
    const template = { file: "/r/card.md", text: "# My {{repo}}\n\n{{ files_table }}\n\n{{usage}}\n\n{{provenance}}\n\n{{license}}\n" };
    const card = writeModelCard({ ...base, template });
    expect(card.text).toMatch(/^---\n[\s\S]*\n---\n\n# My me\/tiny-GGUF\n\n\| File \| Type/);
    expect(card.text).toContain("`other` (tiny-license) — see `LICENSE`");
    let error: unknown;
    try {
      writeModelCard({ ...base, template: { file: "/r/card.md", text: "{{file_table}}" } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).exitCode).toBe(2);
    expect((error as PublishError).toLine()).toBe("/r/card.md: unknown placeholder {{file_table}} in the card template — did you mean {{files_table}}? (known: {{repo}}, {{files_table}}, {{usage}}, {{provenance}}, {{license}})");
  });

  it("should write the same card for the same report", () => {
    expect(writeModelCard(base).text).toBe(writeModelCard({ ...base, report: { ...report, startedAt: "2030-01-01T00:00:00Z" } }).text);
  });
});
