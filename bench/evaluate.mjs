#!/usr/bin/env node
// Quality in bounded time, as a ratio measured in one run on one machine: the evaluate step with the default precision
// (±5 %) against the whole evaluation text in one pass (precision 0), on the same files, and how far apart the two
// means are in the bounded run's standard errors.
//
//   node bench/evaluate.mjs [--model small|135m] [--ctx 512] [--precision 0.05]
//
// The model (random weights, a real-sized vocabulary; no downloads) is generated once into the cache by
// test/fixtures/make_tiny_llama.py; the pipeline converts it (f16) and makes Q8_0, Q4_K_M and Q2_K once, then each
// evaluation runs in a copy of that output folder so neither finds the other's measurement.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { model: { type: "string", default: "small" }, ctx: { type: "string", default: "512" }, precision: { type: "string", default: "0.05" } } });
const cli = join(root, "packages", "cli", "dist", "bin.js");
const doctor = JSON.parse(execFileSync("node", [cli, "doctor", "--json"], { encoding: "utf8" }));
const cache = process.env.GGUF_PIPELINE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gguf-pipeline");
const shapes = {
  // ~33 M parameters with a 32k vocabulary.
  small: ["--hidden", "512", "--layers", "8", "--heads", "8", "--kv-heads", "4", "--intermediate", "1408", "--vocab", "32000", "--max-pos", "2048"],
  // SmolLM-135M's shape.
  "135m": ["--hidden", "576", "--layers", "30", "--heads", "9", "--kv-heads", "3", "--intermediate", "1536", "--vocab", "49152", "--tie", "--max-pos", "2048"],
};
const shape = shapes[values.model];
if (!shape) throw new Error(`--model: one of ${Object.keys(shapes).join(", ")}`);

const source = join(cache, "bench", "models", values.model);
if (!existsSync(join(source, "config.json"))) {
  mkdirSync(join(cache, "bench", "models"), { recursive: true });
  process.stderr.write(`generating the ${values.model} model into ${source}\n`);
  execFileSync(doctor.python.path, [join(root, "test/fixtures/make_tiny_llama.py"), `${source}.tmp`, ...shape, "--steps", "0", "--dtype", "bfloat16"], { stdio: "ignore" });
  renameSync(`${source}.tmp`, source);
}

const work = join(cache, "bench", "work", `evaluate-${values.model}`);
const recipe = (evaluate) => ({ name: "Bench", source: { path: source }, convert: { outtype: "f16" }, quants: ["Q8_0", "Q4_K_M", "Q2_K"], ...(evaluate ? { evaluate } : {}), validate: { smoke: "none" } });
function pipeline(dir, r) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.json"), JSON.stringify(r));
  const out = spawnSync("node", [cli, "run", join(dir, "recipe.json"), "--json"], { encoding: "utf8", env: { ...process.env, CI: "1" }, maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new Error(`pipeline run in ${dir} failed:\n${out.stderr.slice(-2000)}`);
  const events = out.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const seconds = events.find((e) => e.type === "done" && e.stage === "evaluate")?.seconds;
  const quality = Object.fromEntries(JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8")).artifacts.filter((a) => a.quality).map((a) => [a.path, a.quality]));
  return { seconds, quality, notes: events.filter((e) => e.stage === "evaluate" && e.type === "progress").map((e) => e.message) };
}

// The files, once (no evaluate: nothing measured yet).
pipeline(join(work, "files"), recipe(undefined));
const evaluate = (name, precision) => {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(work, "files", "out"), join(dir, "out"), { recursive: true, preserveTimestamps: true });
  return pipeline(dir, recipe({ ctx: Number(values.ctx), precision }));
};
const whole = evaluate("whole", 0);
const bounded = evaluate("bounded", Number(values.precision));

const lines = [`# evaluate: ±${Number(values.precision) * 100} % against the whole text — ${new Date().toISOString().slice(0, 10)}, ${values.model}, ctx ${values.ctx}, ${cpus().length} cores, llama.cpp ${doctor.llamaCpp.commit.slice(0, 8)}`, ""];
lines.push(`evaluate step: bounded ${bounded.seconds.toFixed(1)} s, whole text ${whole.seconds.toFixed(1)} s — ratio ${(bounded.seconds / whole.seconds).toFixed(2)}`, "");
lines.push("| file | chunks (bounded / whole) | KLD bounded | KLD whole | difference in SEs |", "|---|---|---|---|---|");
for (const [path, b] of Object.entries(bounded.quality)) {
  const w = whole.quality[path];
  if (!b.kldSe || !w) continue;
  lines.push(`| ${path} | ${b.chunks} / ${w.chunks} | ${b.kldMean.toFixed(6)} ± ${b.kldSe.toFixed(6)} | ${w.kldMean.toFixed(6)} | ${(Math.abs(b.kldMean - w.kldMean) / b.kldSe).toFixed(2)} |`);
}
lines.push("", ...bounded.notes.filter((n) => /batches|whole text/.test(n)).map((n) => `- ${n}`));
console.log(lines.join("\n"));
