import { runToolToEnd } from "@gguf-pipeline/core";
import type { Toolchain } from "./tools.js";

export interface ListConverterArchitecturesParams {
  toolchain: Toolchain;
  signal?: AbortSignal;
}

/** The text-model architectures a converter supports, from its own `--print-supported-models`. */
export async function listConverterArchitectures(params: ListConverterArchitecturesParams): Promise<string[]> {
  const out = await runToolToEnd({
    tool: "convert_hf_to_gguf.py --print-supported-models",
    command: params.toolchain.python,
    args: [params.toolchain.scripts.convertHf, "--print-supported-models"],
    cwd: params.toolchain.llamaCppDir,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  const names: string[] = [];
  let inText = false;
  for (const line of out.lines) {
    const text = line.replace(/^[A-Z]+:[^:]*:/, "").trim();
    if (/^TEXT models:/.test(text)) inText = true;
    else if (/^[A-Z]+ models:/.test(text)) inText = false;
    else if (inText && text.startsWith("- ")) names.push(text.slice(2).trim());
  }
  return names;
}
