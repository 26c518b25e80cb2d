import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cosine, hfEmbed, llamaEmbed, tinyEmbedModel } from "../embed-helpers.js";
import { cli, jsonEvents, tempDir, writeRecipe } from "../helpers.js";

const sentences = ["The river starts high in the hills.", "She mixes flour, water, salt and yeast.", "Students come in the evening to read."];

describe("embedding models through `pipeline run`: the tiny BERT", () => {
  let work: string;
  let outDir: string;
  let recipe: string;
  let first: Awaited<ReturnType<typeof cli>>;
  let report: RunReport;

  beforeAll(async () => {
    const model = await tinyEmbedModel();
    work = await tempDir("embedding");
    outDir = join(work, "out");
    recipe = await writeRecipe(work, { name: "Tiny-Embed", source: { path: model }, convert: { outtype: "f32" }, quants: ["Q8_0"], evaluate: { ctx: 128 }, validate: { smoke: "all" } });
    first = await cli(["run", recipe, "--json"]);
    report = JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as RunReport;
  });

  it("should convert, quantize and validate it, the smoke test running llama-embedding instead of a chat", () => {
    expect(first.exitCode, first.all).toBe(0);
    const files = report.validation?.files ?? {};
    expect(Object.keys(files).sort()).toEqual(["Tiny-Embed-F32.gguf", "Tiny-Embed-Q8_0.gguf"]);
    for (const [path, f] of Object.entries(files)) {
      expect(f, path).toMatchObject({ ok: true, kind: "embedding" });
      // A model without a conversation has no chat template to require.
      expect(f.checks.map((c) => c.name), path).not.toContain("chat template");
      expect(f.checks.find((c) => c.name === "smoke test"), path).toMatchObject({ ok: true, fact: expect.stringMatching(/^4 finite vectors of width 64; different sentences differ/) as unknown });
    }
    expect(files["Tiny-Embed-Q8_0.gguf"]?.checks.find((c) => c.name === "embeddings vs reference")).toMatchObject({ ok: true, fact: expect.stringMatching(/^cosine to the reference's embeddings: mean (0\.99\d\d|1\.0000), min (0\.99\d\d|1\.0000)$/) as unknown });
  });

  it("should make an F32 whose embeddings equal transformers' within 1e-4 cosine distance, and a Q8_0 within 1e-2", async () => {
    const reference = await hfEmbed({ modelDir: await tinyEmbedModel(), sentences });
    const f32 = await llamaEmbed({ gguf: join(outDir, "Tiny-Embed-F32.gguf"), sentences });
    const q8 = await llamaEmbed({ gguf: join(outDir, "Tiny-Embed-Q8_0.gguf"), sentences });
    reference.forEach((ref, i) => {
      expect(1 - cosine(f32[i] ?? [], ref), sentences[i]).toBeLessThan(1e-4);
      expect(1 - cosine(q8[i] ?? [], ref), sentences[i]).toBeLessThan(1e-2);
    });
  });

  it("should measure each quant by the cosine similarity of its embeddings to the reference's, and show it in the table", async () => {
    const q8 = report.artifacts.find((a) => a.path === "Tiny-Embed-Q8_0.gguf");
    expect(q8?.quality).toMatchObject({ kind: "embedding", text: "evaluation.txt", ctx: 128 });
    const quality = q8?.quality?.kind === "embedding" ? q8.quality : undefined;
    expect(quality?.passages).toBeGreaterThan(10);
    expect(quality?.cosineMin).toBeGreaterThan(0.99);
    expect(quality?.cosineMean).toBeGreaterThanOrEqual(quality?.cosineMin ?? 1);
    expect(report.artifacts.find((a) => a.path === "Tiny-Embed-F32.gguf")?.quality).toMatchObject({ kind: "embedding", cosineMean: 1, cosineMin: 1 });
    const table = await cli(["report", outDir]);
    // file, type, size, bpw, memory to run it (at the model's own context, 128), cosine mean and min
    expect(table.stdout).toMatch(/^file\s+type\s+size\s+bpw\s+RAM @128\s+cos mean\s+cos min\s+imatrix$/m);
    expect(table.stdout).toMatch(/^Tiny-Embed-Q8_0\.gguf\s+Q8_0\s+\S+ MB\s+[\d.]+\s+[\d.]+ MB\s+(0\.99\d{4}|1\.000000)\s+(0\.99\d{4}|1\.000000)\s*$/m);
    expect(table.stdout).toMatch(/quality: llama-embedding on \d+ passages of evaluation\.txt at ctx 128/);
  });

  it("should do no work on an unchanged re-run: every step cached, validation included", async () => {
    const again = await cli(["run", recipe, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const done = jsonEvents(again.stdout).filter((e) => e.type === "done" && ["convert", "quantize", "evaluate", "validate"].includes(String(e.stage)));
    expect(done.map((e) => [e.stage, e.cached])).toEqual([["convert", true], ["quantize", true], ["evaluate", true], ["validate", true]]);
  });
});
