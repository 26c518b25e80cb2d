import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { literal, stderrLines } from "../fault-helpers.js";
import { cli, copyTiny, tempDir, writeRecipe } from "../helpers.js";

/**
 * Tokenizer parity (issue 23, part 3): every run's validation holds a text model's GGUF to its source's own tokenizer,
 * text by text, the rendered chat template included. A tokenizer whose transformers config says otherwise than
 * llama.cpp does (`legacy: false`: no space prefix after a special token) fails with the text and both sides' tokens.
 */
describe("tokenizer parity: the GGUF tokenizes as the source's tokenizer does", () => {
  it("should pass the tiny model on every text, the rendered chat template included", async () => {
    const work = await tempDir("parity-ok");
    const run = await cli(["run", await writeRecipe(work, { name: "Tiny", source: { path: await copyTiny(work) }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(run.exitCode, run.all).toBe(0);
    const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
    expect(report.validation?.files["Tiny-F32.gguf"]?.checks).toContainEqual({ name: "tokenizer parity", ok: true, fact: "7 texts (english, japanese, code, digits, whitespace, unicode, chat) tokenize as the source's tokenizer does" });
  });

  it("should fail a run whose GGUF cuts the chat prompt otherwise than the source's tokenizer, naming the text and both sides", async () => {
    const work = await tempDir("parity-bad");
    const model = await copyTiny(work);
    const config = join(model, "tokenizer_config.json");
    await writeFile(config, (await readFile(config, "utf8")).replace('"legacy": true', '"legacy": false'));
    const run = await cli(["run", await writeRecipe(work, { name: "Tiny", source: { path: model }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(run.exitCode, run.all).toBe(1);
    expect(stderrLines(run).filter((l) => l.startsWith("error:"))).toEqual([
      expect.stringMatching(new RegExp(`^error: ${literal(join(work, "out", "report.json"))}: validation failed: Tiny-F32\\.gguf: tokenizer parity: the chat text tokenizes differently from the source's tokenizer at token 1 of \\d+: llama\\.cpp \\[344, [\\d, …]+\\], transformers \\[(?!344)[\\d, …]+\\] — fix the cause, or accept a check by name with --allow`)),
    ]);
  });
});
