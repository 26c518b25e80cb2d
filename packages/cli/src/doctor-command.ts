import { describeToolchain, type ToolchainDescription } from "@gguf-pipeline/native";

export interface DoctorCommandParams {
  env?: NodeJS.ProcessEnv;
}

/** `pipeline doctor`: every tool's path and version, the llama.cpp commit, the Python env, and what is missing. */
export async function doctorCommand(params: DoctorCommandParams = {}): Promise<ToolchainDescription> {
  return describeToolchain({ ...(params.env ? { env: params.env } : {}), probe: true });
}

export function formatDoctor(d: ToolchainDescription): string[] {
  const mark = (ok: boolean) => (ok ? "ok     " : "MISSING");
  const lines = [
    `cache       ${d.cacheRoot}`,
    `llama.cpp   ${d.llamaCpp.commit}${d.llamaCpp.tag ? ` (${d.llamaCpp.tag})` : ""} — ${d.source === "managed" ? `pinned via ${d.llamaCpp.npmPackage}` : "your own tree"}`,
    `  source    ${d.llamaCpp.sourceDir}`,
    `  build     ${d.llamaCpp.binDir}${d.llamaCpp.flags ? `  [${d.llamaCpp.flags.join(" ")}]` : ""}`,
    ...d.tools.map((t) => `  ${mark(t.present)} ${t.name.padEnd(22)} ${t.path}${t.version ? `  (version ${t.version})` : ""}`),
    ...d.scripts.map((t) => `  ${mark(t.present)} ${t.name.padEnd(22)} ${t.path}`),
    `python      ${d.python.path}${d.python.version ? ` (${d.python.version})` : ""}  ${d.python.ready ? "" : "NOT CREATED"}`,
    ...Object.entries(d.python.packages ?? {}).map(([name, version]) => `  ${name.padEnd(14)} ${version}`),
  ];
  if (d.problems.length === 0) lines.push("", "everything is in place");
  else {
    lines.push("", `${d.problems.length} problem(s):`);
    for (const p of d.problems) lines.push(`  - ${p.what}`, `    fix: ${p.fix}`);
  }
  return lines;
}
