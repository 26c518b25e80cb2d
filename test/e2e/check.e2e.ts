import { copyFile, open, readFile, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ggufValue, readGguf, rewriteGgufMetadata } from "@gguf-pipeline/core";
import { execa } from "execa";
import { gguf } from "@huggingface/gguf";
import { cli, fixturesDir, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";

/** Each damaged GGUF: `inspect --check` exits 1 with one error line that names the file and the fault, and never crashes. */
describe("inspect --check: structural checks on any GGUF", () => {
  let work: string;
  let good: string;

  beforeAll(async () => {
    work = await tempDir("check");
    const result = await cli(["run", await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" } })]);
    expect(result.exitCode, result.all).toBe(0);
    good = join(work, "out", "Tiny-F32.gguf");
  });

  async function damaged(name: string, damage: (file: string) => Promise<unknown>): Promise<string> {
    const file = join(work, `${name}.gguf`);
    await copyFile(good, file);
    await damage(file);
    return file;
  }

  async function failsWith(file: string, pattern: RegExp, extra: string[] = []): Promise<void> {
    const result = await cli(["inspect", "--check", ...extra, file]);
    expect(result.exitCode, result.all).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }

  it("should pass a good file", async () => {
    const result = await cli(["inspect", "--check", good, "--json"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, checks: expect.arrayContaining([expect.objectContaining({ name: "architecture", ok: true })]) });
  });

  it("should catch a truncated file", async () => {
    await failsWith(await damaged("truncated", async (f) => truncate(f, (await stat(f)).size - 1000)), /file size: \d+ bytes, but the header implies \d+: the file is truncated/);
  });

  it("should catch a flipped magic", async () => {
    await failsWith(
      await damaged("magic", async (f) => {
        const h = await open(f, "r+");
        await h.write(Buffer.from("GGUX"), 0, 4, 0);
        await h.close();
      }),
      /magic: starts with "GGUX", not "GGUF": not a GGUF file/,
    );
  });

  it("should catch a tensor whose data lies past the end of the file", async () => {
    await failsWith(
      await damaged("offset", async (f) => {
        // Tensor info: name (u64 length + bytes), n_dims (u32), dims (u64 each), type (u32), offset (u64).
        const bytes = await readFile(f);
        const name = Buffer.from("output_norm.weight");
        const at = bytes.indexOf(name);
        const offsetAt = at + name.length + 4 + 8 * 1 + 4;
        const h = await open(f, "r+");
        const huge = Buffer.alloc(8);
        huge.writeBigUInt64LE(BigInt(bytes.length) * 4n - ((BigInt(bytes.length) * 4n) % 32n));
        await h.write(huge, 0, 8, offsetAt);
        await h.close();
      }),
      /tensor data in bounds: output_norm\.weight ends at byte \d+, the file has \d+/,
    );
  });

  it("should catch a GGUF whose tokenizer was removed", async () => {
    await failsWith(
      await damaged("no-tokenizer", async (f) => rewriteGgufMetadata({ input: good, output: f, set: {}, remove: ["tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"] })),
      /tokenizer: tokenizer model \(tokenizer\.ggml\.model\) missing: llama\.cpp cannot load this file/,
    );
  });

  it("should catch a file_type that lies about the tensors", async () => {
    await failsWith(
      await damaged("lying", async (f) => rewriteGgufMetadata({ input: good, output: f, set: { "general.file_type": ggufValue.uint32(15) } })),
      /file type: general\.file_type Q4_K_M: 0 of 16 weight tensors are quantized — the file type does not match the tensors/,
    );
  });

  it("should smoke-test a good file, and fail one with zeroed weights or a broken chat template", async () => {
    const ok = await cli(["inspect", "--check", "--smoke", good, "--json"]);
    expect(ok.exitCode, ok.all).toBe(0);
    expect(JSON.parse(ok.stdout).checks).toContainEqual({ name: "smoke test", ok: true, fact: expect.stringMatching(/^\d+ tokens through the chat template: ".+"$/) });
    const zeroed = await damaged("zeroed", async (f) => {
      const { tensorDataOffset, bytes } = await readGguf({ file: f });
      const h = await open(f, "r+");
      await h.write(Buffer.alloc(bytes - tensorDataOffset), 0, bytes - tensorDataOffset, tensorDataOffset);
      await h.close();
    });
    await failsWith(zeroed, /smoke test: degenerate output ".+": the weights look broken/, ["--smoke"]);
    const template = await damaged("template", (f) => rewriteGgufMetadata({ input: good, output: f, set: { "tokenizer.chat_template": ggufValue.string("{% for m in messages %}{{ m.content ") } }));
    await failsWith(template, /smoke test: llama-completion failed: .*Parser Error/, ["--smoke"]);
    // Both are structurally sound: only running them shows what is wrong.
    expect((await cli(["inspect", "--check", zeroed])).exitCode).toBe(0);
  });

  it("should validate every GGUF of a run into report.json, fail the run on a failed check, and accept it with --allow", async () => {
    const dir = join(work, "run");
    // A quant whose metadata override breaks its context length: made by llama-quantize, caught by validation.
    const recipe = await writeRecipe(dir, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0", { type: "Q4_0", overrideKv: ["llama.context_length=int:0"] }], validate: { smoke: "all", tokens: 8 } });
    const failed = await cli(["run", recipe]);
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toMatch(/^error: .*report\.json: validation failed: Tiny-Q4_0\.gguf: context length: .* — fix the cause, or accept a check by name with --allow/m);
    const report = JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8")) as { validation: { allowed: string[]; files: Record<string, { ok: boolean; checks: { name: string; ok: boolean }[] }> } };
    expect(Object.keys(report.validation.files).sort()).toEqual(["Tiny-F32.gguf", "Tiny-Q4_0.gguf", "Tiny-Q8_0.gguf"]);
    expect(report.validation.files["Tiny-Q8_0.gguf"]).toMatchObject({ ok: true, checks: expect.arrayContaining([{ name: "tensor count", ok: true, fact: "21 tensors; the source implies 21" }, expect.objectContaining({ name: "chat template", ok: true })]) });
    // A context length of 0 is caught by the structure check, and the file does not run either.
    expect(report.validation.files["Tiny-Q4_0.gguf"]?.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["context length", "smoke test"]);
    // smoke: "all" runs every model through llama-completion.
    for (const file of ["Tiny-F32.gguf", "Tiny-Q8_0.gguf"]) expect(report.validation.files[file]?.checks).toContainEqual(expect.objectContaining({ name: "smoke test", ok: true }));

    const allowed = await cli(["run", recipe, "--allow", "context length,smoke test"]);
    expect(allowed.exitCode, allowed.all).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "out", "report.json"), "utf8"))).toMatchObject({ validation: { allowed: ["context length", "smoke test"] } });
  });

  it("should stamp the recipe's metadata into general.*, reading back the same with @huggingface/gguf and gguf-py", async () => {
    const dir = join(work, "stamp");
    const metadata = {
      version: "1.2",
      author: "Jane Doe",
      organization: "Example Org",
      description: "A tiny test model.",
      url: "https://example.org/tiny",
      // The source's card says apache-2.0: a recipe may restate it, not contradict it.
      license: "apache-2.0",
      licenseLink: "https://example.org/tiny/LICENSE",
      tags: ["tiny", "test"],
      languages: ["en", "fr"],
      baseModels: [{ name: "Tiny Base", organization: "Example Org", repoUrl: "https://huggingface.co/example/tiny-base" }],
      datasets: [{ name: "Corpus", repoUrl: "https://huggingface.co/datasets/example/corpus" }],
    };
    const result = await cli(["run", await writeRecipe(dir, { name: "Stamped", source: { path: tinyModel }, convert: { outtype: "f32" }, metadata, quants: ["Q8_0"] })]);
    expect(result.exitCode, result.all).toBe(0);
    const expected = {
      "general.name": "Stamped",
      "general.version": "1.2",
      "general.author": "Jane Doe",
      "general.organization": "Example Org",
      "general.description": "A tiny test model.",
      "general.url": "https://example.org/tiny",
      "general.license": "apache-2.0",
      "general.license.link": "https://example.org/tiny/LICENSE",
      "general.tags": ["tiny", "test"],
      "general.languages": ["en", "fr"],
      "general.base_model.count": 1,
      "general.base_model.0.name": "Tiny Base",
      "general.base_model.0.organization": "Example Org",
      "general.base_model.0.repo_url": "https://huggingface.co/example/tiny-base",
      "general.dataset.count": 1,
      "general.dataset.0.name": "Corpus",
      "general.dataset.0.repo_url": "https://huggingface.co/datasets/example/corpus",
    };
    const tc = await toolchain();
    for (const file of ["Stamped-F32.gguf", "Stamped-Q8_0.gguf"]) {
      const path = join(dir, "out", file);
      expect((await gguf(path, { allowLocalFile: true })).metadata, file).toMatchObject(expected);
      const byGgufPy = JSON.parse((await execa(tc.python, [join(fixturesDir, "gguf_py_metadata.py"), tc.llamaCppDir, path])).stdout) as Record<string, unknown>;
      expect(byGgufPy, file).toMatchObject(expected);
    }
  });

  it("should leave the tensor data bytes untouched when only the header is rewritten", async () => {
    const out = join(work, "stamped.gguf");
    const { inputDataOffset, outputDataOffset } = await rewriteGgufMetadata({ input: good, output: out, set: { "general.name": ggufValue.string("A much longer name than before, to move the data") } });
    expect(outputDataOffset).not.toBe(inputDataOffset);
    expect((await readFile(out)).subarray(outputDataOffset)).toEqual((await readFile(good)).subarray(inputDataOffset));
    expect((await cli(["inspect", "--check", out])).exitCode).toBe(0);
  });
});
