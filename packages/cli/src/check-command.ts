import { checkGguf, smokeTest, type CheckGgufOutput } from "@gguf-pipeline/validate";
import { describeToolchain, listLlamaArchitectures } from "@gguf-pipeline/native";
import { requireFile } from "./require-file.js";

export interface CheckCommandParams {
  file: string;
  /** Also load it with llama-completion and generate through its chat template. */
  smoke?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** `pipeline inspect --check FILE.gguf`: the structural checks, with the architectures the llama.cpp in use knows. */
export async function checkCommand(params: CheckCommandParams): Promise<CheckGgufOutput> {
  await requireFile({ file: params.file, hint: "pass a .gguf file" });
  const toolchain = await describeToolchain(params.env ? { env: params.env } : {});
  const architectures = await listLlamaArchitectures({ llamaCppDir: toolchain.llamaCpp.sourceDir });
  const result = await checkGguf({ file: params.file, ...(architectures ? { architectures } : {}) });
  const completion = toolchain.tools.find((t) => t.name === "llama-completion");
  if (params.smoke && result.checks.every((c) => c.ok) && completion?.present) {
    const ran = await smokeTest({ file: params.file, completionTool: completion.path, prompt: "Hello! Who are you?", tokens: 16 });
    result.checks.push({ name: "smoke test", ok: ran.ok, fact: ran.fact });
    result.ok = result.checks.every((c) => c.ok);
  }
  return result;
}

export function formatCheck(result: CheckGgufOutput): string[] {
  const width = Math.max(...result.checks.map((c) => c.name.length));
  return [
    ...result.checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.fact}`),
    result.ok ? `${result.file}: all ${result.checks.length} checks pass` : `${result.file}: ${result.checks.filter((c) => !c.ok).length} check(s) failed`,
  ];
}
