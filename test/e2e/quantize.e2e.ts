import { createHash } from "node:crypto";
import { readFile, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { gguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKld, type RunReport } from "@gguf-pipeline/core";
import { defaultCalibrationText, findQuantType, ggmlTypeNames, quantAliases, quantTypes } from "@gguf-pipeline/quantize";
import { cli, cliBin, jsonEvents, listTree, makeTinyModel, repoRoot, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";

const sha = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

interface ReportArtifact {
  path: string;
  stage: string;
  ggufType?: string;
  sha256: string;
  quant?: { type: string; bitsPerWeight: number; imatrix?: string; shard?: { index: number; count: number } };
  quality?: { ppl: number; kldMean: number; kldP99: number; top1: number };
}

async function report(outDir: string): Promise<ReportArtifact[]> {
  return (JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as { artifacts: ReportArtifact[] }).artifacts;
}

/** Which quants a --json run made and which it took from the cache. */
function ladderOf(stdout: string): { made: string[]; cached: string[] } {
  const events = jsonEvents(stdout);
  const quantStage = (e: Record<string, unknown>) => String(e.stage).startsWith("quantize:");
  return {
    made: events.filter((e) => quantStage(e) && e.type === "done" && e.cached === false).map((e) => String(e.stage).slice(9)).sort(),
    cached: events.filter((e) => quantStage(e) && e.type === "cache-hit").map((e) => String(e.stage).slice(9)).sort(),
  };
}

describe("quantize: the ladder on the tiny model", () => {
  let work: string;
  let outDir: string;
  let first: Awaited<ReturnType<typeof cli>>;
  const recipe = {
    name: "Tiny",
    source: { path: tinyModel },
    convert: { outtype: "f32" },
    quants: ["Q8_0", "q4_k_m", { type: "Q2_K", imatrix: false }, "IQ4_XS", "IQ2_XXS"],
    // The shipped texts are ~54k and ~22k tokens: a few chunks are enough for a 125k-parameter model.
    imatrix: { ctx: 64, chunks: 16 },
    evaluate: { ctx: 64, chunks: 16 },
  };

  beforeAll(async () => {
    work = await tempDir("ladder");
    outDir = join(work, "out");
    first = await cli(["run", await writeRecipe(work, recipe), "--json"]);
  });

  it("should make every quant, named by the Hub's convention, with the requested file type and tensor mix", async () => {
    expect(first.exitCode, first.all).toBe(0);
    const files = (await readdir(outDir)).filter((f) => f.endsWith(".gguf")).sort();
    expect(files).toEqual(["Tiny-F32.gguf", "Tiny-IQ2_XXS.gguf", "Tiny-IQ4_XS.gguf", "Tiny-Q2_K.gguf", "Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf", "Tiny.imatrix.gguf"]);
    for (const type of ["Q8_0", "Q4_K_M", "Q2_K", "IQ4_XS", "IQ2_XXS"]) {
      const { metadata, tensorInfos } = await gguf(join(outDir, `Tiny-${type}.gguf`), { allowLocalFile: true });
      const m = metadata as unknown as Record<string, unknown>;
      expect(m["general.file_type"], type).toBe(findQuantType(type)?.ftype);
      // Q8_0 is uniform: every 2-D weight is q8_0 (1-D norms stay f32).
      if (type === "Q8_0") expect(new Set(tensorInfos.filter((t) => t.shape.length === 2).map((t) => t.dtype))).toEqual(new Set([8]));
      // An imatrix quant records which matrix it used, by file name only.
      if (type === "Q2_K") expect(m["quantize.imatrix.file"]).toBeUndefined();
      else expect(m).toMatchObject({ "quantize.imatrix.file": "Tiny.imatrix.gguf", "quantize.imatrix.dataset": "calibration.txt", "quantize.imatrix.chunks_count": expect.any(Number) });
    }
    const artifacts = await report(outDir);
    expect(artifacts.find((a) => a.path === "Tiny-Q4_K_M.gguf")).toMatchObject({ stage: "quantize", ggufType: "Q4_K_M", quant: { type: "Q4_K_M", imatrix: "Tiny.imatrix.gguf", bitsPerWeight: expect.any(Number) } });
  });

  it("should make each quant byte for byte what llama-quantize makes by hand with the same arguments", async () => {
    const tc = await toolchain();
    const hand = await tempDir("by-hand");
    for (const [type, imatrix] of [["Q8_0", true], ["Q4_K_M", true], ["Q2_K", false], ["IQ2_XXS", true]] as const) {
      const output = join(hand, `${type}.gguf`);
      // Same input and options; a different thread count, which must not change the bytes.
      await execa(tc.tools.quantize, [...(imatrix ? ["--imatrix", "Tiny.imatrix.gguf"] : []), "Tiny-F32.gguf", output, type, "1"], { cwd: outDir });
      expect(await sha(output), type).toBe(await sha(join(outDir, `Tiny-${type}.gguf`)));
    }
    // The importance matrix too.
    await execa(tc.tools.imatrix, ["-m", join(outDir, "Tiny-F32.gguf"), "-f", "calibration.txt", "-o", join(hand, "imatrix.gguf"), "--output-format", "gguf", "-c", "64", "--chunks", "16"], { cwd: join(defaultCalibrationText, "..") });
    expect(await sha(join(hand, "imatrix.gguf"))).toBe(await sha(join(outDir, "Tiny.imatrix.gguf")));
  });

  it("should measure quality in a sane order, with the numbers llama-perplexity prints by hand", async () => {
    const artifacts = await report(outDir);
    const q = (type: string) => artifacts.find((a) => a.quant?.type === type)?.quality;
    expect(artifacts.find((a) => a.stage === "convert")?.quality).toMatchObject({ kldMean: 0, top1: 100, ppl: expect.any(Number) });
    expect(q("Q8_0")?.kldMean).toBeLessThan(q("Q4_K_M")?.kldMean ?? 0);
    expect(q("Q8_0")?.kldMean).toBeLessThan(q("Q2_K")?.kldMean ?? 0);
    expect(q("Q8_0")?.top1).toBeGreaterThan(q("Q2_K")?.top1 ?? 100);
    const tc = await toolchain();
    const base = (await readdir(join(outDir, ".pipeline"))).find((f) => f.startsWith("kld-base-"));
    expect(base).toBeDefined();
    const byHand = await execa(tc.tools.perplexity, ["-m", "Tiny-Q2_K.gguf", "-c", "64", "--kl-divergence-base", join(".pipeline", base ?? ""), "--kl-divergence", "-t", "2"], { cwd: outDir, all: true });
    // llama-perplexity's own ± counts every token as a sample of its own: the pipeline claims none from one pass.
    const { kldSe: _perToken, ...numbers } = parseKld(byHand.all ?? "");
    expect(numbers.kldMean).toBeGreaterThan(0);
    expect(q("Q2_K")).toMatchObject(numbers);
    expect(q("Q2_K")).not.toHaveProperty("kldSe");
    const table = await cli(["report", outDir]);
    // file, type, size, bpw, memory to run it, PPL, KLD mean, KLD p99, top-1
    expect(table.stdout).toMatch(/^Tiny-Q2_K\.gguf\s+Q2_K\s+\S+ KB\s+[\d.]+\s+[\d.]+ [KM]B\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+%\s*$/m);
  });

  it("should run only the added quant, and only the imatrix quants when the imatrix goes away", async () => {
    const added = await cli(["run", await writeRecipe(work, { ...recipe, quants: [...recipe.quants, "Q5_K_M"] }), "--json"]);
    expect(added.exitCode, added.all).toBe(0);
    expect(ladderOf(added.stdout)).toEqual({ made: ["Q5_K_M"], cached: ["IQ2_XXS", "IQ4_XS", "Q2_K", "Q4_K_M", "Q8_0"] });
    const { imatrix: _gone, ...withoutImatrix } = recipe;
    const noImatrix = await cli(["run", await writeRecipe(work, { ...withoutImatrix, quants: ["Q8_0", "Q4_K_M", { type: "Q2_K", imatrix: false }] }), "--json"]);
    expect(noImatrix.exitCode, noImatrix.all).toBe(0);
    expect(ladderOf(noImatrix.stdout)).toEqual({ made: ["Q4_K_M", "Q8_0"], cached: ["Q2_K"] });
  });
});

describe("quantize: interruption, failures, split", () => {
  it("should keep finished quants and no partial file when killed mid-ladder, and finish only the rest next time", async () => {
    const work = await tempDir("kill-ladder");
    const types = ["Q8_0", "Q6_K", "Q5_K_M", "Q5_0", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"];
    const file = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: types });
    const child = execa("node", [cliBin, "run", file, "--json", "--jobs", "1"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    let sent = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      if (!sent && /"type":"artifact","stage":"quantize:/.test(chunk.toString())) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(130);
    const finished = jsonEvents(result.stdout).filter((e) => e.type === "artifact" && String(e.stage).startsWith("quantize:")).map((e) => String(e.stage).slice(9));
    expect(finished.length).toBeGreaterThan(0);
    expect(finished.length).toBeLessThan(types.length);
    const left = await listTree(join(work, "out"));
    expect(left.filter((f) => f.includes(".partial-"))).toEqual([]);
    expect(left.filter((f) => /^Tiny-.*\.gguf$/.test(f) && f !== "Tiny-F32.gguf").sort()).toEqual(finished.map((t) => `Tiny-${t}.gguf`).sort());

    const again = await cli(["run", file, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const ladder = ladderOf(again.stdout);
    // (diagnostics if this fails: what the interrupted run printed)
    expect(ladder.cached, result.stdout.slice(-3000)).toEqual([...finished].sort());
    expect(ladder.cached).toEqual([...finished].sort());
    expect(ladder.made).toEqual(types.filter((t) => !finished.includes(t)).sort());
  });

  it("should finish the other quants when one fails, and report the failure at the end", async () => {
    const work = await tempDir("one-fails");
    // A metadata override llama-quantize cannot read (a bool neither true nor false) makes just that quant fail. (An
    // unknown tensor type no longer can: the recipe check refuses it before any work.)
    const file = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0", { type: "Q4_0", overrideKv: ["general.foo=bool:maybe"] }, "Q5_0"] });
    const result = await cli(["run", file, "--json"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toMatch(/^error: 1 quant\(s\) failed: Q4_0 \(llama-quantize Q4_0 failed/m);
    expect((await readdir(join(work, "out"))).filter((f) => f.endsWith(".gguf")).sort()).toEqual(["Tiny-F32.gguf", "Tiny-Q5_0.gguf", "Tiny-Q8_0.gguf"]);
    expect((await report(join(work, "out"))).map((a) => a.path)).toContain("Tiny-Q5_0.gguf");
  });

  it("should split a quant over the size limit into shards named <name>-<TYPE>-0000i-of-0000n.gguf", async () => {
    const work = await tempDir("split");
    const model = await makeTinyModel({ out: join(work, "model"), hidden: 256, steps: 5 });
    const file = await writeRecipe(work, { name: "Wide", source: { path: model }, convert: { outtype: "f32" }, quants: ["F16", "Q4_K_M", "F32"], split: { maxSize: "2M" } });
    const result = await cli(["run", file]);
    expect(result.exitCode, result.all).toBe(0);
    const files = (await readdir(join(work, "out"))).filter((f) => f.startsWith("Wide-F16-")).sort();
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toBe(`Wide-F16-00001-of-${String(files.length).padStart(5, "0")}.gguf`);
    const artifacts = await report(join(work, "out"));
    expect(artifacts.filter((a) => a.quant?.type === "F16").map((a) => a.quant?.shard)).toEqual(files.map((_, i) => ({ index: i + 1, count: files.length })));
    // llama.cpp reads the shards back as one model.
    const { metadata } = await gguf(join(work, "out", files[0] ?? ""), { allowLocalFile: true });
    expect((metadata as unknown as Record<string, unknown>)["split.count"]).toBe(files.length);
    // Q4_K_M of a 256-wide model: real k-quant blocks, under 2 MB, not split.
    expect(await readdir(join(work, "out"))).toContain("Wide-Q4_K_M.gguf");
    // The F32 rung is the intermediate itself: neither remade nor written over (the other rungs are made from it).
    const intermediate = artifacts.filter((a) => a.path === "Wide-F32.gguf");
    expect(intermediate).toEqual([expect.objectContaining({ stage: "convert", ggufType: "F32" })]);
    expect(await sha(join(work, "out", "Wide-F32.gguf"))).toBe(intermediate[0]?.sha256);
    // The shard set is validated as one model: every shard's structure, all tensors against the reference's shapes.
    const validation = (JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport).validation?.files[files[0] ?? ""];
    expect(validation?.checks).toEqual(
      expect.arrayContaining([
        { name: "shards", ok: true, fact: expect.stringMatching(new RegExp(`^${files.length} shards holding all \\d+ tensors$`)) as unknown },
        { name: "tensor shapes", ok: true, fact: expect.stringMatching(/^all \d+ tensors have the reference's shapes$/) as unknown },
        { name: "file size", ok: true, fact: expect.stringMatching(new RegExp(`^${files.length} shards; the first: \\d+ bytes, as the header implies$`)) as unknown },
      ]),
    );
    // A shard set missing its last shard, or with a truncated one, fails inspect --check, naming the shard.
    const last = files.at(-1) ?? "";
    await truncate(join(work, "out", last), (await stat(join(work, "out", last))).size - 1000);
    const truncated = await cli(["inspect", "--check", join(work, "out", files[0] ?? "")]);
    expect(truncated.exitCode, truncated.all).toBe(1);
    expect(truncated.all).toMatch(new RegExp(`file size +${last.replace(/[.]/g, "\\.")}: \\d+ bytes, but the header implies \\d+: the file is truncated`));
    await rm(join(work, "out", last));
    const missing = await cli(["inspect", "--check", join(work, "out", files[0] ?? "")]);
    expect(missing.exitCode, missing.all).toBe(1);
    expect(missing.all).toMatch(new RegExp(`readable +${last.replace(/[.]/g, "\\.")}: the file does not exist or cannot be read`));
    await rm(work, { recursive: true, force: true });
  });
});

describe("quantize: recipe checks and the type table", () => {
  async function rejected(recipe: unknown, pattern: RegExp, setup?: (dir: string) => Promise<void>): Promise<void> {
    const work = await tempDir("qbad");
    await setup?.(work);
    const file = await writeRecipe(work, recipe);
    const result = await cli(["validate", file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(pattern);
    expect(await listTree(join(work, "out"))).toEqual(["<missing>"]);
  }
  const base = { source: { path: tinyModel } };

  it("should refuse an unknown type with a suggestion", async () => {
    await rejected(`{\n  "source": { "path": "${tinyModel}" },\n  "quants": ["Q4_K_M",\n    "Q5KM"]\n}\n`, /recipe\.json:4: unknown quant type "Q5KM" — did you mean "Q5_K_M"\?$/);
  });
  it("should refuse IQ2_XXS without an importance matrix", async () => {
    await rejected({ ...base, quants: ["iq2_xxs"] }, /IQ2_XXS needs an importance matrix and this recipe has none for it — add "imatrix": \{\}/);
  });
  it("should refuse a missing or empty calibration file", async () => {
    await rejected({ ...base, quants: ["Q4_K_M"], imatrix: { calibration: "nope.txt" } }, /\$?.*text file .*nope\.txt does not exist/);
    await rejected({ ...base, quants: ["Q4_K_M"], imatrix: { calibration: "empty.txt" } }, /text file .*empty\.txt is empty/, (dir) => writeFile(join(dir, "empty.txt"), ""));
  });
  it("should refuse a split size it cannot read", async () => {
    await rejected({ ...base, quants: ["Q4_K_M"], split: { maxSize: "48 gigs" } }, /split size "48 gigs" cannot be read — write a whole number with M or G/);
  });

  it("should refuse an unknown tensor type up front, where llama-quantize would refuse it only when its rung runs", async () => {
    await rejected({ ...base, quants: ["Q4_K_M"], quantOptions: { outputTensorType: "q9_0" } }, /recipe\.json:\d+: unknown tensor type "q9_0" — did you mean "q8_0"\?$/);
    await rejected({ ...base, quants: [{ type: "Q4_K_M", tensorTypes: ["attn_v=q8_0", "ffn_down=q6_k_m"] }] }, /recipe\.json:\d+: unknown tensor type "q6_k_m" — did you mean "q6_K"\?$/);
    // What llama-quantize itself accepts passes, in any case (its parser ignores case).
    const work = await tempDir("qtypes");
    const ok = await cli(["validate", await writeRecipe(work, { ...base, quants: [{ type: "Q4_K_M", outputTensorType: "Q8_0", tokenEmbeddingType: "q6_k", tensorTypes: ["attn_v=BF16"] }] })]);
    expect(ok.exitCode, ok.all).toBe(0);
    // And llama-quantize refuses the unknown one by hand, as the check says.
    const tc = await toolchain();
    const byHand = await execa(tc.tools.quantize, ["--output-tensor-type", "q9_0", "in.gguf", "out.gguf", "Q4_K_M"], { reject: false, all: true, cwd: work });
    expect(byHand.exitCode).not.toBe(0);
    expect(byHand.all).toMatch(/invalid ggml_type 'q9_0'/);
  });

  it("should keep the table of tensor types equal to the pinned ggml's type names", async () => {
    const source = await readFile(join((await toolchain()).llamaCppDir, "ggml", "src", "ggml.c"), "utf8");
    // Removed types keep a placeholder name ("DEPRECATED", "TYPE_Q4_0_4_4 REMOVED, ...") that no one should write.
    const named = [...source.matchAll(/\.type_name\s*=\s*"([^"]+)"/g)].map((m) => m[1] ?? "").filter((n) => /^[A-Za-z0-9_]+$/.test(n) && n !== "DEPRECATED");
    expect(named.length).toBeGreaterThan(30);
    expect([...named].sort()).toEqual([...ggmlTypeNames].sort());
  });

  it("should keep the table of quant types equal to the pinned llama-quantize's own list", async () => {
    const tc = await toolchain();
    const help = await execa(tc.tools.quantize, ["--help"], { reject: false, all: true });
    const listed = [...(help.all ?? "").matchAll(/^\s+(\d+)\s+or\s+(\S+)\s+:/gm)].map((m) => [m[2] ?? "", Number(m[1])] as const);
    expect(listed.length).toBeGreaterThan(30);
    const ours = new Map<string, number>([...quantTypes.map((t) => [t.name, t.ftype] as const), ...Object.entries(quantAliases).map(([alias, name]) => [alias, findQuantType(name)?.ftype ?? -1] as const)]);
    expect(new Map(listed)).toEqual(ours);
  });
});
