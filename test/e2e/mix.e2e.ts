import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { parseGGUFQuantLabel } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, jsonEvents, tempDir, toolchain, writeRecipe } from "../helpers.js";
import { trainedModel } from "../mix-helpers.js";

interface Made {
  path: string;
  stage: string;
  bytes: number;
  sha256: string;
  quant?: { type: string; bitsPerWeight: number; imatrix?: string; mix?: { targetBytes: number; targetBpw: number; tensorTypes: string; predictedBytes: number; predictedKld: number } };
  quality?: { kldMean: number; kldSe?: number };
}

const sha = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

// A mix at the size of the model's own Q4_K_M, on a model trained until its layers differ: the file of that size with
// the lowest KL divergence the measured sensitivities can find.
describe("mix: a file of a size, each tensor group's type by measured sensitivity", () => {
  let work: string;
  let out: string;
  let run: Awaited<ReturnType<typeof cli>>;
  let target: number;
  const recipe = (model: string, quants: unknown[]) => ({ name: "Mix", source: { path: model }, convert: { outtype: "f16" }, imatrix: { ctx: 128, chunks: 32 }, quants, evaluate: { ctx: 128, precision: 0.1 }, validate: { smoke: "none" } });

  beforeAll(async () => {
    const model = await trainedModel("a");
    work = await tempDir("mix");
    out = join(work, "out");
    // The standard file first: its size is the mix's target.
    const first = await cli(["run", await writeRecipe(work, recipe(model, ["Q4_K_M"])), "--json"]);
    expect(first.exitCode, first.all).toBe(0);
    target = (await stat(join(out, "Mix-Q4_K_M.gguf"))).size;
    run = await cli(["run", await writeRecipe(work, recipe(model, ["Q4_K_M", { mix: { size: target } }])), "--json"]);
  }, 600_000);

  it("should make the mix within 1 % under its size, exactly the size predicted, named with a quant label the Hub parses", async () => {
    expect(run.exitCode, run.all).toBe(0);
    const made = (JSON.parse(await readFile(join(out, "report.json"), "utf8")) as { artifacts: Made[] }).artifacts;
    const mix = made.find((a) => a.path === "Mix-Q4_K_XL.gguf");
    expect(mix?.quant?.mix).toMatchObject({ targetBytes: target, tensorTypes: "Mix-Q4_K_XL.tensor-types.txt", predictedBytes: mix?.bytes });
    expect(mix?.bytes).toBeLessThanOrEqual(target);
    expect(mix?.bytes).toBeGreaterThan(target * 0.99);
    expect(parseGGUFQuantLabel("Mix-Q4_K_XL.gguf")).toBe("Q4_K_XL");
    expect(made.find((a) => a.path === "Mix-Q4_K_XL.tensor-types.txt")).toBeDefined();
  });

  it("should plan the mix exactly once its sensitivity is measured: its size to the byte, and cached", async () => {
    const model = await trainedModel("a");
    const plan = await cli(["plan", await writeRecipe(work, recipe(model, ["Q4_K_M", { mix: { size: target } }]))]);
    expect(plan.exitCode, plan.all).toBe(0);
    const bytes = (await stat(join(out, "Mix-Q4_K_XL.gguf"))).size;
    expect(plan.stdout).toMatch(new RegExp(`^cached\\s+mix\\s+Mix-Q4_K_XL\\.gguf for .*: exactly ${bytes} bytes, predicted KLD [\\d.]+`, "m"));
    expect(plan.stdout).toMatch(/^cached\s+quantize\s+Mix-Q4_K_XL\.gguf \(a mix of/m);
  });

  it("should measure a lower mean KL divergence than the standard type of the same size", async () => {
    const made = (JSON.parse(await readFile(join(out, "report.json"), "utf8")) as { artifacts: Made[] }).artifacts;
    const standard = made.find((a) => a.path === "Mix-Q4_K_M.gguf")?.quality;
    const mix = made.find((a) => a.path === "Mix-Q4_K_XL.gguf")?.quality;
    // Beyond both errors: here some twenty times lower (token_embd and the first layer's attention matter most).
    expect((mix?.kldMean ?? 1) + 3 * (mix?.kldSe ?? 1)).toBeLessThan((standard?.kldMean ?? 0) - 3 * (standard?.kldSe ?? 1));
    const table = await cli(["report", out]);
    expect(table.stdout).toMatch(/^Mix-Q4_K_XL\.gguf\s+Q4_K_XL\s/m);
  });

  it("should be byte for byte what llama-quantize makes by hand with the tensor-type file beside it", async () => {
    const tc = await toolchain();
    const byHand = join(work, "by-hand.gguf");
    await execa(tc.tools.quantize, ["--tensor-type-file", "Mix-Q4_K_XL.tensor-types.txt", "--imatrix", "Mix.imatrix.gguf", "Mix-F16.gguf", byHand, "Q4_K_M", "2"], { cwd: out });
    expect(await sha(byHand)).toBe(await sha(join(out, "Mix-Q4_K_XL.gguf")));
    // Every tensor group is named in it, each once.
    const lines = (await readFile(join(out, "Mix-Q4_K_XL.tensor-types.txt"), "utf8")).trim().split("\n");
    expect(lines).toContain("^token_embd\\.weight$=q8_0");
    expect(new Set(lines.map((l) => l.split("=")[0])).size).toBe(lines.length);
  });

  it("should measure the sensitivities once: an unchanged re-run makes nothing, a second size only its own file", async () => {
    const model = await trainedModel("a");
    const again = await cli(["run", await writeRecipe(work, recipe(model, ["Q4_K_M", { mix: { size: target } }, { mix: { bpw: 3.5 } }])), "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const events = jsonEvents(again.stdout);
    expect(events.find((e) => e.type === "done" && e.stage === "mix:sensitivity")?.cached).toBe(true);
    const made = events.filter((e) => e.type === "done" && String(e.stage).startsWith("quantize:") && e.cached === false).map((e) => e.stage);
    expect(made).toEqual(["quantize:Q3_K_XL"]);
    expect((await readdir(out)).filter((f) => f.endsWith(".tensor-types.txt")).sort()).toEqual(["Mix-Q3_K_XL.tensor-types.txt", "Mix-Q4_K_XL.tensor-types.txt"]);
  });

  it("should refuse a size below the smallest mix with one line and exit 2, and a size it cannot read before any work", async () => {
    const model = await trainedModel("a");
    // Below every weight at Q2_K: refused before anything is converted, the output folder not even made.
    const fresh = await tempDir("mix-small");
    const tiny = await cli(["run", await writeRecipe(fresh, recipe(model, [{ mix: { size: 100_000 } }]), "small.json")]);
    expect(tiny.exitCode).toBe(2);
    expect(tiny.stderr.trim().split("\n").filter((l) => l.startsWith("error:"))).toEqual([expect.stringMatching(/^error: \S+small\.json: a mix of 100000 bytes cannot be made: with every tensor group at Q2_K the file is at least \d+ bytes — ask for \d+ bytes or more/)]);
    expect(await readdir(fresh)).toEqual(["small.json"]);
    const twice = await cli(["run", await writeRecipe(work, recipe(model, [{ mix: { bpw: 4.6 } }, { mix: { bpw: 5.1 } }]), "twice.json")]);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toMatch(/twice\.json: two mixes would both be Mix-Q4_K_XL\.gguf — the Hub tells files apart by their quant label/);
    const unreadable = await cli(["run", await writeRecipe(work, recipe(model, [{ mix: { size: "4.5G" } }]), "bad.json")]);
    expect(unreadable.exitCode).toBe(2);
    expect(unreadable.stderr).toMatch(/mix size "4\.5G" cannot be read/);
  });
});
