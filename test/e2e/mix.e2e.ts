import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { parseGGUFQuantLabel } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { configShape, estimateMemory, modelShape, readGguf } from "@gguf-pipeline/core";
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

  it("should fill a memory budget with a mix (quants.fit with mix), beside the best standard type that fits, and measure it better", async () => {
    const model = await trainedModel("a");
    // A budget whose room for the file, after the KV cache and buffers at ctx 256, is the Q4_K_M file's size (to the KiB).
    const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as Record<string, unknown>;
    const shape = configShape({ config, weightsBytes: 0 });
    const beside = shape ? estimateMemory({ shape, ctx: 256 }).totalBytes : 0;
    const budget = `${Math.ceil((target + beside) / 1024)}KB`;
    const allowed = Math.ceil((target + beside) / 1024) * 1024;
    const fit = await cli(["run", await writeRecipe(work, { ...recipe(model, []), quants: { fit: [budget], ctx: 256, margin: 0, reserve: "0MB", mix: true } }, "fit.json"), "--json"]);
    expect(fit.exitCode, fit.all).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as { artifacts: Made[]; quantChoice?: { type: string; budget?: string }[] };
    const mix = report.artifacts.find((a) => a.path === "Mix-Q4_K_XL.gguf");
    expect(mix?.quant?.mix).toMatchObject({ fit: { budget, ctx: 256 }, tensorTypes: "Mix-Q4_K_XL.tensor-types.txt" });
    // Its memory at ctx 256, as the choice judges a made file, is within the budget, and fills it.
    const header = await readGguf({ file: join(out, "Mix-Q4_K_XL.gguf") });
    const made = modelShape({ metadata: header.metadata, weightsBytes: header.bytes - header.tensorDataOffset });
    const need = made ? estimateMemory({ shape: made, ctx: 256 }).totalBytes : Infinity;
    expect(need).toBeLessThanOrEqual(allowed);
    expect(need).toBeGreaterThan(allowed * 0.99);
    // The standard type the budget holds was chosen too, and the mix of the same budget measures better.
    const chosen = report.quantChoice?.find((c) => c.budget === budget)?.type;
    expect(chosen).toBe("Q4_K_M");
    const standard = report.artifacts.find((a) => a.path === `Mix-${chosen}.gguf`)?.quality;
    expect(mix?.quality?.kldMean ?? 1).toBeLessThan(standard?.kldMean ?? 0);
    const plan = await cli(["plan", join(work, "fit.json")]);
    expect(plan.stdout).toMatch(new RegExp(`Mix-Q4_K_XL\\.gguf for ${budget} at ctx 256: `));
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
    // A budget that leaves too little beside the KV cache and buffers: the same, in its own words.
    const budget = await cli(["run", await writeRecipe(fresh, recipe(model, [{ mix: { fit: "40MB", ctx: 4096 } }]), "budget.json")]);
    expect(budget.exitCode).toBe(2);
    expect(budget.stderr).toMatch(/budget\.json: a mix for 40MB at ctx 4096 cannot be made: what the budget leaves for the file \(\d+ bytes, after the KV cache, buffers, margin and reserve\) is too small, and with every tensor group at Q2_K the file is at least \d+ bytes — raise the budget, lower the context/);
    const both = await cli(["run", await writeRecipe(fresh, recipe(model, [{ mix: { size: 1_000_000, bpw: 3 } }]), "both.json")]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/a mix asks for size and bpw: one of them/);
    const unreadable = await cli(["run", await writeRecipe(work, recipe(model, [{ mix: { size: "4.5G" } }]), "bad.json")]);
    expect(unreadable.exitCode).toBe(2);
    expect(unreadable.stderr).toMatch(/mix size "4\.5G" cannot be read/);
  });
});
