import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { cacheLayout, type ToolchainDescription } from "@gguf-pipeline/native";
import { faultyBinDir, loggingWrapper } from "../cpu-helpers.js";
import { stderrLines } from "../fault-helpers.js";
import { cli, jsonEvents, listTree, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";

const hasGdb = existsSync("/usr/bin/gdb") || (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, "gdb")));

async function doctor(env: Record<string, string> = {}): Promise<ToolchainDescription> {
  const run = await cli(["doctor", "--json"], { env });
  return JSON.parse(run.stdout) as ToolchainDescription;
}

/** A user's own llama.cpp: the managed tree for the converters, a bin/ of the given faulty tools beside the real ones. */
async function userToolchainEnv(name: string, faults: Parameters<typeof faultyBinDir>[0]["faults"]): Promise<{ env: Record<string, string>; binDir: string }> {
  const tc = await toolchain();
  const binDir = await faultyBinDir({ dir: join(await tempDir(name), "bin"), realBinDir: tc.binDir, faults });
  return { env: { GGUF_PIPELINE_LLAMA_CPP: tc.llamaCppDir, GGUF_PIPELINE_LLAMA_CPP_BIN: binDir }, binDir };
}

async function tinyRecipe(name: string, recipe: Record<string, unknown> = {}): Promise<{ recipe: string; work: string }> {
  const work = await tempDir(name);
  return { recipe: await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, ...recipe }), work };
}

describe("cpu: the toolchain is proven on the CPU it runs on", () => {
  it("should have self-tested the managed build on this CPU before any test used it, every check within its bound", async () => {
    const d = await doctor();
    console.log(`CPU: ${d.cpu.model} (${d.cpu.extensions.join(" ")}); the build uses ${d.selfTest?.features.join(" ")}`);
    expect(d.selfTest?.passed, JSON.stringify(d.selfTest)).toBe(true);
    expect(d.selfTest?.fingerprint).toBe(d.cpu.fingerprint);
    expect(d.selfTest?.checks.map((c) => c.name)).toEqual([
      "F16 mean KLD",
      "Q8_0 mean KLD",
      "Q4_0 mean KLD",
      "Q4_K_M mean KLD",
      "IQ4_XS mean KLD",
      "Q4_K_M mean KLD, one token at a time",
      "Q8_0 embedding cosine",
      "Q4_K_M embedding cosine",
      "Q4_K_M tokens generated",
    ]);
    for (const c of d.selfTest?.checks ?? []) expect(c.ok, c.name).toBe(true);
    // F16 is exact up to rounding; the quants move the logits, but far less than a model of other weights does (7.3).
    const kld = Object.fromEntries((d.selfTest?.checks ?? []).map((c) => [c.name, c.value]));
    expect(kld["F16 mean KLD"]).toBeLessThan(kld["Q8_0 mean KLD"] ?? 0);
    expect(kld["Q8_0 mean KLD"]).toBeLessThan(kld["Q4_K_M mean KLD"] ?? 0);
    expect(d.selfTest?.features.length).toBeGreaterThan(0);
    // On a CPU whose build crashed (an AMX machine), what was turned off says why.
    for (const off of d.turnedOff) expect(off.why).toMatch(/SIGILL|asked for/);
    const plain = await cli(["doctor"]);
    expect(plain.stdout).toMatch(/^ {2}cpu {7}\S/m);
    expect(plain.stdout).toMatch(/^ {2}uses {6}.*\(ggml's system_info\)$/m);
    expect(plain.stdout).toMatch(/^ {2}self-test passed \d{4}-\d\d-\d\d [\d:]+: F16 mean KLD /m);
  });

  it(
    "should build again without an extension whose instructions fault, and use only the build that passes (GGUF_PIPELINE_SIMULATE_SIGILL)",
    async () => {
      const env = { GGUF_PIPELINE_SIMULATE_SIGILL: "amx" };
      const normal = await doctor();
      // A clean slate for the simulated CPU (a build made by an earlier run stays: it is only reused).
      const simulated = cacheLayout({ env: { ...process.env, ...env }, without: ["amx"] });
      await rm(simulated.cpuChoiceFile, { force: true });
      await rm(simulated.selfTestFile, { force: true });
      const setup = await cli(["setup", "--json"], { env });
      expect(setup.exitCode, setup.all).toBe(0);
      const events = jsonEvents(setup.stdout);
      const messages = events.map((e) => String(e.message ?? e.title ?? ""));
      expect(messages).toContain("llama-imatrix was killed by SIGILL in the self-test (simulated by GGUF_PIPELINE_SIMULATE_SIGILL=amx): building llama.cpp again without AMX");
      expect(messages.some((m) => /^Self-test passed: 9 checks against F32/.test(m)), messages.join("\n")).toBe(true);

      const d = await doctor(env);
      expect(d.turnedOff.map((t) => t.feature)).toEqual(["amx"]);
      expect(d.turnedOff[0]?.why).toBe("llama-imatrix was killed by SIGILL in the self-test (simulated by GGUF_PIPELINE_SIMULATE_SIGILL=amx)");
      expect(d.llamaCpp.without).toEqual(["amx"]);
      // The build key says which build it is: another folder, whose flags turn AMX off.
      expect(d.llamaCpp.buildKey).not.toBe(normal.llamaCpp.buildKey);
      expect(d.llamaCpp.flags).toContain("-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16");
      expect(d.selfTest?.passed).toBe(true);
      expect(d.selfTest?.features).not.toContain("AMX_INT8");
      const plain = await cli(["doctor"], { env });
      expect(plain.stdout).toContain("  without   amx: llama-imatrix was killed by SIGILL in the self-test (simulated by GGUF_PIPELINE_SIMULATE_SIGILL=amx)");

      // Once proven, the choice is kept: no build, no self-test, and a run uses that build.
      const again = await cli(["setup", "--json"], { env });
      expect(jsonEvents(again.stdout).some((e) => e.stage === "self-test" || e.stage === "llama.cpp"), again.stdout).toBe(false);
      const { recipe, work } = await tinyRecipe("cpu-simulated");
      const run = await cli(["run", recipe], { env });
      expect(run.exitCode, run.all).toBe(0);
      const report = JSON.parse(await readFile(join(work, "out", "report.json"), "utf8")) as RunReport;
      expect(report.tools.llamaCppBuild).toMatchObject({ key: d.llamaCpp.buildKey, without: ["amx"] });

      // Without the switch this CPU keeps its own build: a simulated fault is a CPU of its own.
      const after = await doctor();
      expect(after.llamaCpp.buildKey).toBe(normal.llamaCpp.buildKey);
      expect(after.turnedOff).toEqual(normal.turnedOff);
    },
    1_800_000,
  );

  it("should refuse a user's llama.cpp whose tool dies of SIGILL in the self-test, with one line that says what to rebuild", async () => {
    const { env, binDir } = await userToolchainEnv("cpu-user-sigill", { "llama-perplexity": { kind: "sigill" } });
    const { recipe, work } = await tinyRecipe("cpu-user-sigill-run");
    const run = await cli(["run", recipe], { env });
    expect(run.exitCode, run.all).toBe(1);
    const errors = stderrLines(run).filter((l) => l.startsWith("error:"));
    expect(errors).toHaveLength(1);
    const at = hasGdb ? " \\(at `tilezero %tmm4` in \\S+, an AMX instruction\\)" : " \\([^)]*\\)";
    expect(errors[0]).toMatch(
      new RegExp(`^error: ${binDir}: your llama.cpp's llama-perplexity was killed by SIGILL in the self-test on this CPU${at} — rebuild it without AMX \\(cmake -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"\\), or unset GGUF_PIPELINE_LLAMA_CPP and GGUF_PIPELINE_LLAMA_CPP_BIN \\(and the recipe's toolchain\\) to use the managed build$`),
    );
    // Refused before any work: the output folder was never made.
    expect(existsSync(join(work, "out"))).toBe(false);
  });

  it("should refuse a user's llama.cpp whose results are wrong, with the check that failed", async () => {
    // llama-perplexity measures another file than it is given: a kernel that computes on the wrong data.
    const { env, binDir } = await userToolchainEnv("cpu-user-wrong", { "llama-perplexity": { kind: "swap", from: "probe-Q8_0", to: "probe-Q4_0" } });
    const { recipe } = await tinyRecipe("cpu-user-wrong-run");
    const run = await cli(["run", recipe], { env });
    expect(run.exitCode, run.all).toBe(1);
    expect(stderrLines(run).filter((l) => l.startsWith("error:"))).toEqual([
      expect.stringMatching(new RegExp(`^error: ${binDir}: your llama.cpp failed the self-test on this CPU: out of bounds: Q8_0 mean KLD 0\\.\\d+ \\(limit 0\\.01\\) — check the build`)),
    ]);
  });

  it("should end a run on one line when a tool dies of SIGILL in it (the smoke test, a rung of the ladder), not as a failed check", async () => {
    const { env } = await userToolchainEnv("cpu-run-sigill", { "llama-completion": { kind: "sigill", when: "cpu-run-sigill-model" }, "llama-quantize": { kind: "sigill", when: "Q4_K_M.gguf.partial" } });
    const gdbSays = hasGdb ? " at `tilezero %tmm4` in \\S+: it needed AMX, which this CPU (does not have|advertises but faulted on)" : "";
    const hint = " — rebuild your llama.cpp without AMX \\(cmake -DCMAKE_C_FLAGS=\"-mno-amx-tile -mno-amx-int8 -mno-amx-bf16\" -DCMAKE_CXX_FLAGS=\"-mno-amx-tile -mno-amx-int8 -mno-amx-bf16\"\\), or unset GGUF_PIPELINE_LLAMA_CPP and GGUF_PIPELINE_LLAMA_CPP_BIN to use the managed build$";

    const smoke = await tinyRecipe("cpu-run-sigill-model");
    const run = await cli(["run", smoke.recipe, "--json"], { env });
    expect(run.exitCode, run.all).toBe(1);
    const errors = stderrLines(run).filter((l) => l.startsWith("error:"));
    expect(errors, run.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^error: llama-completion was killed by SIGILL \\(an illegal instruction\\) on \\S+Tiny-F32\\.gguf${gdbSays}${hasGdb ? hint : ""}`));
    expect(run.stderr).not.toMatch(/validation failed|smoke test/);
    const event = jsonEvents(run.stdout).find((e) => e.type === "error");
    expect(event).toMatchObject({ exitCode: 1, signal: "SIGILL", tool: "llama-completion", ...(hasGdb ? { feature: "amx" } : {}) });

    const ladder = await tinyRecipe("cpu-run-sigill-ladder", { quants: ["Q8_0", "Q4_K_M"], validate: { smoke: "none" } });
    const rung = await cli(["run", ladder.recipe], { env });
    expect(rung.exitCode, rung.all).toBe(1);
    expect(stderrLines(rung).filter((l) => l.startsWith("error:"))).toEqual([expect.stringMatching(/^error: llama-quantize Q4_K_M was killed by SIGILL \(an illegal instruction\) on /)]);
    expect(rung.stderr).not.toMatch(/quant\(s\) failed/);
    // Nothing partial under a final name.
    expect((await listTree(join(ladder.work, "out"))).filter((f) => f.endsWith("Q4_K_M.gguf"))).toEqual([]);
  });

  it("should remember a user's llama.cpp by its files: an unchanged re-run starts no Python and no git", async () => {
    const tc = await toolchain();
    const work = await tempDir("cpu-user-memo");
    const log = join(work, "calls.log");
    const bin = join(work, "path");
    await execa("mkdir", ["-p", bin]);
    const python = await loggingWrapper({ file: join(bin, "python"), real: tc.python, log });
    const gitPath = (await execa("sh", ["-c", "command -v git"])).stdout.trim();
    await loggingWrapper({ file: join(bin, "git"), real: gitPath, log });
    const env = { GGUF_PIPELINE_LLAMA_CPP: tc.llamaCppDir, GGUF_PIPELINE_LLAMA_CPP_BIN: tc.binDir, GGUF_PIPELINE_PYTHON: python, PATH: `${bin}:${process.env.PATH ?? ""}` };
    const { recipe } = await tinyRecipe("cpu-user-memo-run");
    const first = await cli(["run", recipe], { env });
    expect(first.exitCode, first.all).toBe(0);
    const calls = (await readFile(log, "utf8")).split("\n").filter(Boolean);
    expect(calls.filter((c) => c.includes("--print-supported-models"))).toHaveLength(1);
    const second = await cli(["run", recipe], { env });
    expect(second.exitCode, second.all).toBe(0);
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toEqual(calls);
    expect(second.stdout).not.toMatch(/Self-test/);
  });
});
