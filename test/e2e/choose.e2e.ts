import { cp, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cli, jsonEvents, listTree, makeTinyModel, tempDir, toolchain, writeRecipe } from "../helpers.js";
import { sha256File } from "../hub-helpers.js";
import { memoryLimit, type MemoryLimit } from "../memory-limit.js";

const readReport = async (dir: string) => JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as RunReport;
const mib = 2 ** 20;
const candidates = ["Q8_0", "Q4_K_M", "Q2_K"];
// 1024 wide, 8 layers: Q8_0 is ~77 MiB of weights, Q4_K_M ~44 MiB, so a budget between them is tens of MiB from each.
const budget = "76MB";
const choice = { fit: [budget], ctx: 512, margin: 0.02, reserve: "4MB", candidates };

describe("quants chosen by budget: quants { fit, ctx, maxKld }", () => {
  let work: string;
  let model: string;
  let recipe: string;
  const out = () => join(work, "out");

  beforeAll(async () => {
    work = await tempDir("choose");
    model = await makeTinyModel({ out: join(work, "model"), hidden: 1024, layers: 8, steps: 1 });
    recipe = await writeRecipe(work, { name: "Ch", source: { path: model }, convert: { outtype: "f16" }, quants: choice, validate: { smoke: "none" } });
  });

  it("should show the likely choice and its rule in plan, before any file exists", async () => {
    const plan = await cli(["plan", recipe]);
    expect(plan.exitCode, plan.all).toBe(0);
    expect(plan.stdout).toMatch(/will run\s+choose\s+76MB → likely Q4_K_M \(~[\d.]+ MB of [\d.]+ MB\): the best of Q8_0, Q4_K_M, Q2_K whose memory at ctx 512 fits with 2% and 4MB to spare, judged on the made files/);
    const matrix = await cli(["plan", recipe, "--matrix"]);
    expect((JSON.parse(matrix.stdout) as { include: unknown[] }).include).toEqual([
      { part: "convert", needs: [] },
      { part: "choose", needs: ["convert"] },
    ]);
  });

  it("should choose the best candidate whose memory at ctx fits the budget, made exactly as llama-quantize makes it by hand", async () => {
    const run = await cli(["run", recipe, "--json"]);
    expect(run.exitCode, run.all).toBe(0);
    const report = await readReport(out());
    expect(report.quantChoice).toEqual([
      {
        budget,
        type: "Q4_K_M",
        ctx: 512,
        needBytes: expect.any(Number) as number,
        allowedBytes: Math.floor(76 * mib * 0.98 - 4 * mib),
        passedOver: [expect.stringMatching(/^Q8_0: (needs|about) [\d.]+ MiB.*, over 70\.5 MiB$/) as string],
        key: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      },
    ]);
    expect(report.quantChoice?.[0]?.needBytes).toBeLessThanOrEqual(report.quantChoice?.[0]?.allowedBytes ?? 0);
    // Only the chosen type is an output; the candidates stay in the bookkeeping.
    expect(report.artifacts.map((a) => a.path).sort()).toEqual(["Ch-F16.gguf", "Ch-Q4_K_M.gguf"]);
    expect((await listTree(out())).filter((f) => !f.startsWith(".pipeline"))).toEqual(["Ch-F16.gguf", "Ch-Q4_K_M.gguf", "report.json"]);
    const tc = await toolchain();
    await execa(tc.tools.quantize, ["Ch-F16.gguf", join(work, "by-hand-Q4_K_M.gguf"), "Q4_K_M", "2"], { cwd: out() });
    expect(await sha256File(join(out(), "Ch-Q4_K_M.gguf"))).toBe(await sha256File(join(work, "by-hand-Q4_K_M.gguf")));
    expect(report.artifacts.find((a) => a.path === "Ch-Q4_K_M.gguf")?.sha256).toBe(await sha256File(join(work, "by-hand-Q4_K_M.gguf")));
  });

  describe("the choice proven under a memory limit equal to the budget (a cgroup, no swap)", () => {
    let limit: MemoryLimit | { unavailable: string };
    beforeAll(async () => {
      limit = await memoryLimit({ name: `gguf-pipeline-choose-${process.pid}`, bytes: 76 * mib });
    });
    afterAll(async () => {
      if ("remove" in limit) await limit.remove();
    });

    it("should load and generate the chosen file at -c ctx within the budget, and the next larger type should not fit", async (ctx) => {
      if ("unavailable" in limit) return ctx.skip(limit.unavailable);
      const tc = await toolchain();
      // Loaded into memory (not mapped): a mapped file's pages can be dropped and read again, so a limit would only slow it.
      const generate = (file: string) => ["-m", file, "-c", "512", "-n", "8", "-p", "hello", "-no-cnv", "-lm", "none", "--no-warmup", "-t", "2"];
      const chosen = await limit.run(tc.tools.completion, generate(join(out(), "Ch-Q4_K_M.gguf")));
      expect(chosen.exitCode, chosen.stderr.slice(-2000)).toBe(0);
      expect(chosen.oomKilled).toBe(false);
      expect(chosen.stdout.length).toBeGreaterThan("hello".length);
      expect(chosen.peakBytes).toBeLessThanOrEqual(76 * mib);
      await execa(tc.tools.quantize, ["Ch-F16.gguf", join(work, "by-hand-Q8_0.gguf"), "Q8_0", "2"], { cwd: out() });
      const larger = await limit.run(tc.tools.completion, generate(join(work, "by-hand-Q8_0.gguf")));
      expect(larger.exitCode).not.toBe(0);
      expect(larger.oomKilled || larger.killed).toBe(true);
    });
  });

  it("should do no work on an unchanged re-run, the choice included", async () => {
    const again = await cli(["run", recipe, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const done = jsonEvents(again.stdout).filter((e) => e.type === "done");
    expect(done.filter((e) => e.cached === false).map((e) => e.stage)).toEqual([]);
    expect(done.find((e) => e.stage === "choose")).toMatchObject({ cached: true, title: "Chose Q4_K_M for 76MB — cached" });
  });

  it("should take the choice from a part made on another machine when gathering, without making the candidates again", async () => {
    const part = async (name: string, from: string[]) => {
      const dir = join(work, `part-${name}`);
      for (const source of from) await cp(source, dir, { recursive: true, preserveTimestamps: false });
      const run = await cli(["run", recipe, "--only", name, "--out", dir]);
      expect(run.exitCode, run.all).toBe(0);
      return dir;
    };
    const convert = await part("convert", []);
    const chosen = await part("choose", [convert]);
    expect((await readReport(chosen)).artifacts.map((a) => a.path).sort()).toEqual(["Ch-F16.gguf", "Ch-Q4_K_M.gguf"]);
    const gathered = join(work, "gathered");
    const gather = await cli(["gather", recipe, convert, chosen, "--out", gathered]);
    expect(gather.exitCode, gather.all).toBe(0);
    expect((await readReport(gathered)).quantChoice).toEqual((await readReport(out())).quantChoice);
    expect(await sha256File(join(gathered, "Ch-Q4_K_M.gguf"))).toBe(await sha256File(join(out(), "Ch-Q4_K_M.gguf")));
    await expect(stat(join(gathered, ".pipeline", "candidates"))).rejects.toThrow();
  });

  it("should take, with maxKld, the smallest candidate whose measured mean KL divergence stays under it", async () => {
    const evaluate = { ctx: 64, chunks: 8 };
    // The candidates measured as a plain ladder first, on this machine: the bound goes between Q4_K_M and Q2_K.
    const ladder = await writeRecipe(work, { name: "Ch", source: { path: model }, convert: { outtype: "f16" }, quants: candidates, evaluate, validate: { smoke: "none" } }, "ladder.json");
    const measured = await cli(["run", ladder, "--out", join(work, "ladder")]);
    expect(measured.exitCode, measured.all).toBe(0);
    const kld = (type: string, r: RunReport) => {
      const q = r.artifacts.find((a) => a.path === `Ch-${type}.gguf`)?.quality;
      return q && q.kind !== "embedding" ? q.kldMean : Number.NaN;
    };
    const ladderReport = await readReport(join(work, "ladder"));
    expect(kld("Q2_K", ladderReport)).toBeGreaterThan(kld("Q4_K_M", ladderReport));
    const maxKld = Math.sqrt(kld("Q2_K", ladderReport) * kld("Q4_K_M", ladderReport));
    const file = await writeRecipe(work, { name: "Ch", source: { path: model }, convert: { outtype: "f16" }, quants: { fit: ["1GB"], ctx: 512, maxKld, candidates }, evaluate, validate: { smoke: "none" } }, "kld.json");
    const run = await cli(["run", file, "--out", join(work, "kld")]);
    expect(run.exitCode, run.all).toBe(0);
    const report = await readReport(join(work, "kld"));
    expect(report.quantChoice?.map((c) => [c.budget ?? c.maxKld, c.type])).toEqual([["1GB", "Q8_0"], [maxKld, "Q4_K_M"]]);
    expect(report.quantChoice?.[1]?.passedOver).toEqual([expect.stringMatching(/^Q2_K: mean KLD [\d.]+, over /)]);
    expect(report.quantChoice?.[1]?.kldMean).toBeCloseTo(kld("Q4_K_M", ladderReport), 9);
    // Both chosen files are outputs, measured by the evaluate step like any quant.
    expect(report.artifacts.map((a) => a.path).filter((p) => p.endsWith(".gguf")).sort()).toEqual(["Ch-F16.gguf", "Ch-Q4_K_M.gguf", "Ch-Q8_0.gguf"]);
    expect(kld("Q4_K_M", report)).toBeCloseTo(kld("Q4_K_M", ladderReport), 9);
  });

  it("should refuse a budget nothing fits, and one that cannot be read, with one line and exit 2", async () => {
    const tight = await writeRecipe(work, { name: "Ch", source: { path: model }, convert: { outtype: "f16" }, quants: { ...choice, fit: ["40MB"] }, validate: { smoke: "none" } }, "tight.json");
    const run = await cli(["run", tight, "--out", join(work, "tight")]);
    expect(run.exitCode, run.all).toBe(2);
    // (The line before it is the task's own failure in the step list.)
    expect(run.stderr.trim().split("\n").at(-1)).toMatch(/^error: no candidate fits 40MB at ctx 512: Q2_K: (needs|about) [\d.]+ MiB( by its nominal size)?, over 35\.2 MiB — raise the budget, lower quants\.ctx or quants\.margin, or add smaller candidates$/);
    expect((await listTree(join(work, "tight"))).filter((f) => f.endsWith(".gguf") && !f.startsWith(".pipeline"))).toEqual(["Ch-F16.gguf"]);
    const unreadable = await writeRecipe(work, { name: "Ch", source: { path: model }, quants: { fit: ["8 gigs"] } }, "unreadable.json");
    const bad = await cli(["run", unreadable]);
    expect(bad.exitCode, bad.all).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^error: .*unreadable\.json:\d+: memory budget "8 gigs" cannot be read — write a size with its unit, e\.g\. "8GB" or "512MB"$/);
  });
});
