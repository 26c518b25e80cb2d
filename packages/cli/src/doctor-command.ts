import { describeGoTools, describeToolchain, type GoToolsDescription, type ToolchainDescription } from "@gguf-pipeline/native";

export interface DoctorCommandParams {
  env?: NodeJS.ProcessEnv;
}

export interface DoctorOutput extends ToolchainDescription {
  /** The helper binaries the tests run (Ollama, a registry, actionlint): shown, but never a problem for a user's run. */
  goTools: GoToolsDescription;
}

/** `pipeline doctor`: every tool's path and version, the llama.cpp commit, the Python env, the test servers, and what is missing. */
export async function doctorCommand(params: DoctorCommandParams = {}): Promise<DoctorOutput> {
  const env = params.env ? { env: params.env } : {};
  const [toolchain, goTools] = await Promise.all([describeToolchain({ ...env, probe: true }), describeGoTools(env)]);
  return { ...toolchain, goTools };
}

export function formatDoctor(d: DoctorOutput): string[] {
  const mark = (ok: boolean) => (ok ? "ok     " : "MISSING");
  const lines = [
    `cache       ${d.cacheRoot}`,
    `llama.cpp   ${d.llamaCpp.commit}${d.llamaCpp.tag ? ` (${d.llamaCpp.tag})` : ""} — ${d.source === "managed" ? `pinned via ${d.llamaCpp.npmPackage}` : "your own tree"}`,
    `  source    ${d.llamaCpp.sourceDir}`,
    `  build     ${d.llamaCpp.binDir}${d.llamaCpp.flags ? `  [${d.llamaCpp.flags.join(" ")}]` : ""}`,
    ...formatCpu(d),
    ...d.tools.map((t) => `  ${mark(t.present)} ${t.name.padEnd(22)} ${t.path}${t.version ? `  (version ${t.version})` : ""}`),
    ...d.scripts.map((t) => `  ${mark(t.present)} ${t.name.padEnd(22)} ${t.path}`),
    `python      ${d.python.path}${d.python.version ? ` (${d.python.version})` : ""}  ${d.python.ready ? "" : "NOT CREATED"}`,
    ...Object.entries(d.python.packages ?? {}).map(([name, version]) => `  ${name.padEnd(14)} ${version}`),
    ...formatGoTools(d.goTools),
  ];
  if (d.problems.length === 0) lines.push("", "everything is in place");
  else {
    lines.push("", `${d.problems.length} problem(s):`);
    for (const p of d.problems) lines.push(`  - ${p.what}`, `    fix: ${p.fix}`);
  }
  return lines;
}

/** The CPU, what the build uses of it, its self-test here, and what was turned off and why. */
function formatCpu(d: DoctorOutput): string[] {
  const t = d.selfTest;
  const lines = [`  cpu       ${d.cpu.model} (${d.cpu.extensions.join(" ") || "no extensions listed"})`];
  if (t?.systemInfo) lines.push(`  uses      ${t.features.filter((f) => f !== "SSE3" && f !== "SSSE3").join(" ")}  (ggml's system_info)`);
  for (const off of d.turnedOff) lines.push(`  without   ${off.feature}: ${off.why} (${off.at.slice(0, 10)})`);
  if (!t) lines.push("  self-test not run on this CPU yet");
  else if (t.passed) lines.push(`  self-test passed ${t.at.slice(0, 19).replace("T", " ")}: ${t.checks.map((c) => `${c.name} ${round(c.value)}`).join(", ")}`);
  else lines.push(`  self-test FAILED ${t.at.slice(0, 19).replace("T", " ")}: ${t.failure ?? "unknown"}`);
  return lines;
}

function round(value: number): string {
  return Math.abs(value) >= 0.01 || value === 0 ? String(Number(value.toFixed(4))) : value.toExponential(1);
}

/** The test servers' binaries: built from the Go module proxy by the end-to-end setup, needed only for tests. */
function formatGoTools(g: GoToolsDescription): string[] {
  const lines = [`test servers ${g.root}  (go ${g.go ? `${g.go.version} ${g.go.goos}/${g.go.goarch}` : "not found"}; only the end-to-end tests need these)`];
  if (g.goProblem) lines.push(`  ${g.goProblem}`);
  for (const t of g.tools) {
    const state = t.ready ? `ok      built in ${t.seconds ?? "?"} s` : "not built";
    lines.push(`  ${t.name.padEnd(11)} ${t.module}@${t.version}  ${state}`, `    ${t.path}`, `    built by: ${t.command}`);
  }
  if (g.tools.some((t) => !t.ready)) lines.push(`  build them: ${g.fix}`);
  return lines;
}
