#!/usr/bin/env node
// Mixes by measured sensitivity against llama.cpp's own presets of the same size, measured in one run on one machine:
// for each trained fixture, Q3_K_M, Q4_K_M and Q5_K_M are made (with an importance matrix), then a mix at each one's
// exact size, and every file's mean KL divergence is measured on the evaluation text (held out: the sensitivities
// are measured on the calibration text).
//
//   node bench/mix.mjs [--models a,b] [--precision 0.05]
//
// The fixtures are test/mix-helpers.ts's trained tiny Llamas (made once into the cache, as the tests make them).
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { models: { type: "string", default: "a,b" }, precision: { type: "string", default: "0.05" } } });
const cli = join(root, "packages", "cli", "dist", "bin.js");
const doctor = JSON.parse(execFileSync("node", [cli, "doctor", "--json"], { encoding: "utf8" }));
const cache = process.env.GGUF_PIPELINE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gguf-pipeline");
// The same shapes and cache keys as test/mix-helpers.ts.
const shapes = {
  a: ["--hidden", "256", "--layers", "4", "--intermediate", "768"],
  b: ["--hidden", "512", "--layers", "2", "--intermediate", "1024", "--heads", "8", "--kv-heads", "4", "--vocab", "1024"],
};
const presets = ["Q3_K_M", "Q4_K_M", "Q5_K_M"];

function trained(name) {
  const generator = join(root, "test", "fixtures", "make_tiny_llama.py");
  const key = createHash("sha256").update(readFileSync(generator)).update(shapes[name].join(" ")).digest("hex").slice(0, 12);
  const dir = join(cache, "fixtures", `trained-${name}-${key}`);
  if (existsSync(join(dir, "config.json"))) return dir;
  process.stderr.write(`training fixture ${name} into ${dir}\n`);
  execFileSync(doctor.python.path, [generator, `${dir}.bench`, ...shapes[name], "--steps", "300"], { stdio: "ignore", env: { ...process.env, HF_HUB_OFFLINE: "1" } });
  renameSync(`${dir}.bench`, dir);
  return dir;
}

function pipeline(dir, recipe) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.json"), JSON.stringify(recipe));
  const out = spawnSync("node", [cli, "run", join(dir, "recipe.json"), "--json"], { encoding: "utf8", env: { ...process.env, CI: "1" }, maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new Error(`pipeline run in ${dir} failed:\n${out.stderr.slice(-2000)}`);
  return JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8")).artifacts;
}

const lines = [`# mixes against llama.cpp's presets of the same size — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, llama.cpp ${doctor.llamaCpp.commit.slice(0, 8)}`, ""];
lines.push("| model | preset | bytes | KLD preset | mix | bytes | KLD mix | mix / preset |", "|---|---|---|---|---|---|---|---|");
for (const name of values.models.split(",")) {
  const model = trained(name);
  const dir = join(cache, "bench", "work", `mix-${name}`);
  const base = { name: "Bench", source: { path: model }, convert: { outtype: "f16" }, imatrix: { ctx: 128, chunks: 32 }, validate: { smoke: "none" } };
  pipeline(dir, { ...base, quants: presets });
  const sizes = Object.fromEntries(presets.map((p) => [p, statSync(join(dir, "out", `Bench-${p}.gguf`)).size]));
  const made = pipeline(dir, { ...base, quants: [...presets, ...presets.map((p) => ({ mix: { size: sizes[p] } }))], evaluate: { ctx: 128, precision: Number(values.precision) } });
  const q = (path) => made.find((a) => a.path === path);
  const kld = (a) => `${a.quality.kldMean.toFixed(6)} ± ${(a.quality.kldSe ?? 0).toFixed(6)}`;
  for (const p of presets) {
    const preset = q(`Bench-${p}.gguf`);
    const mix = made.find((a) => a.quant?.mix?.targetBytes === sizes[p]);
    lines.push(`| ${name} | ${p} | ${preset.bytes} | ${kld(preset)} | ${mix.quant.type} | ${mix.bytes} (${(((mix.bytes / preset.bytes) - 1) * 100).toFixed(2)} %) | ${kld(mix)} | ${(mix.quality.kldMean / preset.quality.kldMean).toFixed(3)} |`);
  }
}
console.log(lines.join("\n"));
