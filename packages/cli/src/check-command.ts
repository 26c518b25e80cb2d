import { checkGguf, type CheckGgufOutput } from "@gguf-pipeline/core";
import { describeToolchain, listLlamaArchitectures } from "@gguf-pipeline/native";

export interface CheckCommandParams {
  file: string;
  env?: NodeJS.ProcessEnv;
}

/** `pipeline inspect --check FILE.gguf`: the structural checks, with the architectures the llama.cpp in use knows. */
export async function checkCommand(params: CheckCommandParams): Promise<CheckGgufOutput> {
  const toolchain = await describeToolchain(params.env ? { env: params.env } : {});
  const architectures = await listLlamaArchitectures({ llamaCppDir: toolchain.llamaCpp.sourceDir });
  return checkGguf({ file: params.file, ...(architectures ? { architectures } : {}) });
}

export function formatCheck(result: CheckGgufOutput): string[] {
  const width = Math.max(...result.checks.map((c) => c.name.length));
  return [
    ...result.checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.fact}`),
    result.ok ? `${result.file}: all ${result.checks.length} checks pass` : `${result.file}: ${result.checks.filter((c) => !c.ok).length} check(s) failed`,
  ];
}
