#!/usr/bin/env node
// Ratio benchmark: the same quant ladder through `pipeline run` vs. a plain serial shell loop of llama-quantize.
// Both run in this one process's lifetime on the same machine, so the ratio is what to compare, not the seconds.
//
//   node bench/quant-ladder.mjs [--hidden 256] [--layers 4] [--rounds 3] [--jobs N]
//
// It generates a model with test/fixtures/make_tiny_llama.py (no downloads), converts it once to F16, then times
// (a) `pipeline run` with only the quant stage redone (its outputs removed first) and (b) `for t in TYPES; do llama-quantize ...; done`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { hidden: { type: "string", default: "256" }, layers: { type: "string", default: "4" }, rounds: { type: "string", default: "3" }, jobs: { type: "string" } } });
const types = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K", "IQ4_XS"];
const cli = join(root, "packages", "cli", "dist", "bin.js");
const doctor = JSON.parse(execFileSync("node", [cli, "doctor", "--json"], { encoding: "utf8" }));
const quantize = doctor.tools.find((t) => t.name === "llama-quantize").path;
const python = doctor.python.path;

const work = mkdtempSync(join(tmpdir(), "bench-ladder-"));
try {
  execFileSync(python, [join(root, "test/fixtures/make_tiny_llama.py"), join(work, "model"), "--hidden", values.hidden, "--layers", values.layers, "--steps", "5"], { stdio: "ignore" });
  const recipe = join(work, "recipe.json");
  // Smoke test off: a model trained 5 steps generates degenerate text, and the ladder is what is measured here.
  writeFileSync(recipe, JSON.stringify({ name: "Bench", source: { path: "model" }, convert: { outtype: "f16" }, quants: types, validate: { smoke: "none" } }));
  // Warm: convert once (cached afterwards) and fill the page cache.
  execFileSync("node", [cli, "run", recipe], { stdio: "ignore", env: { ...process.env, CI: "1" } });
  const input = join(work, "out", "Bench-F16.gguf");

  const time = (fn) => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  const pipelineRuns = [];
  const handRuns = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    // Removing the quants makes the pipeline redo exactly the ladder; the converted F16 stays cached.
    for (const t of types) rmSync(join(work, "out", `Bench-${t}.gguf`), { force: true });
    pipelineRuns.push(time(() => {
      const r = spawnSync("node", [cli, "run", recipe, ...(values.jobs ? ["--jobs", values.jobs] : [])], { stdio: "ignore", env: { ...process.env, CI: "1" } });
      if (r.status !== 0) throw new Error("pipeline run failed");
    }));
    handRuns.push(time(() => {
      const script = `for t in ${types.join(" ")}; do "${quantize}" "${input}" "${join(work, "hand")}-$t.gguf" $t || exit 1; done`;
      const r = spawnSync("bash", ["-c", script], { stdio: "ignore" });
      if (r.status !== 0) throw new Error("hand loop failed");
    }));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p = median(pipelineRuns);
  const h = median(handRuns);
  console.log(JSON.stringify({ types, jobs: values.jobs ?? "planned", model: { hidden: Number(values.hidden), layers: Number(values.layers) }, rounds: Number(values.rounds), pipelineSeconds: p, serialLoopSeconds: h, ratio: p / h }, null, 2));
  console.log(`pipeline / serial llama-quantize loop = ${(p / h).toFixed(2)} (below 1: the pipeline is faster; it also hashes, inspects and records every file)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
