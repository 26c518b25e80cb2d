import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cli, jsonEvents, tempDir, tinyModel, writeRecipe } from "../helpers.js";
import { sha256File } from "../hub-helpers.js";

const readReport = async (dir: string) => JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as RunReport;
/** What must be equal between the single run and the gathered one: everything but when it ran and how long it took. */
const comparable = (r: RunReport) => {
  const { startedAt: _s, finishedAt: _f, stages: _t, ...rest } = r;
  return rest;
};

// A ladder fanned out the way a CI job matrix runs it: each part a separate process in its own folder, the folders
// carried from job to job as copies (new mtimes, as artifact downloads give), then gathered.
describe("the ladder fanned out across processes: plan --matrix, run --only, gather", () => {
  let work: string;
  let recipe: string;
  const single = () => join(work, "single");
  const gathered = () => join(work, "gathered");

  beforeAll(async () => {
    work = await tempDir("matrix");
    recipe = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, quants: ["Q8_0", "Q4_K_M", { type: "Q2_K", imatrix: false }], imatrix: { ctx: 64, chunks: 16 }, evaluate: { ctx: 64, chunks: 16 } });
    const one = await cli(["run", recipe, "--out", single()]);
    expect(one.exitCode, one.all).toBe(0);
  });

  it("should list the parts and what each needs as JSON for a job matrix", async () => {
    const plan = await cli(["plan", recipe, "--matrix"]);
    expect(plan.exitCode, plan.all).toBe(0);
    expect(JSON.parse(plan.stdout)).toEqual({
      parts: ["convert", "imatrix", "Q8_0", "Q4_K_M", "Q2_K"],
      quants: ["Q8_0", "Q4_K_M", "Q2_K"],
      imatrix: true,
      include: [
        { part: "convert", needs: [] },
        { part: "imatrix", needs: ["convert"] },
        { part: "Q8_0", needs: ["convert", "imatrix"] },
        { part: "Q4_K_M", needs: ["convert", "imatrix"] },
        { part: "Q2_K", needs: ["convert"] },
      ],
    });
  });

  it("should give byte-identical files and an equal report (timings aside) to the single run", async () => {
    const part = async (name: string, from: string[]) => {
      const dir = join(work, `part-${name}`);
      for (const source of from) await cp(source, dir, { recursive: true, preserveTimestamps: false });
      const run = await cli(["run", recipe, "--only", name, "--out", dir, "--json"]);
      expect(run.exitCode, run.all).toBe(0);
      return { dir, events: jsonEvents(run.stdout) };
    };
    const convert = await part("convert", []);
    const imatrix = await part("imatrix", [convert.dir]);
    // The imatrix part found the carried convert output by its content: nothing converted again.
    expect(imatrix.events.find((e) => e.type === "done" && e.stage === "convert")).toMatchObject({ cached: true });
    const quants = [];
    for (const type of ["Q8_0", "Q4_K_M", "Q2_K"]) quants.push(await part(type, [convert.dir, imatrix.dir]));
    expect(quants[0]?.events.filter((e) => e.type === "done" && String(e.stage).startsWith("quantize:")).map((e) => e.stage)).toEqual(["quantize:Q8_0"]);
    expect((await readReport(quants[0]?.dir ?? "")).part).toBe("Q8_0");

    const gather = await cli(["gather", recipe, convert.dir, imatrix.dir, ...quants.map((q) => q.dir), "--out", gathered()]);
    expect(gather.exitCode, gather.all).toBe(0);
    const a = await readReport(single());
    const b = await readReport(gathered());
    for (const artifact of a.artifacts) expect(await sha256File(join(gathered(), artifact.path)), artifact.path).toBe(await sha256File(join(single(), artifact.path)));
    expect(comparable(b)).toEqual(comparable(a));
  });

  it("should refuse a part the recipe does not have, with the closest one", async () => {
    const bad = await cli(["run", recipe, "--only", "Q4_K_S", "--out", join(work, "nope")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^error: --only Q4_K_S is not a part of this recipe \(convert, imatrix, Q8_0, Q4_K_M, Q2_K\) — did you mean --only Q4_K_M\?$/);
  });
});
