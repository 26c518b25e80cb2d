import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { runToolToEnd } from "@gguf-pipeline/core";
import type { Toolchain } from "./tools.js";
import { rememberByIdentity } from "./user/remember-by-identity.js";

export interface ListConverterArchitecturesParams {
  toolchain: Toolchain;
  /** Where the answer is remembered under the converter's files' identities (it costs a torch import: seconds). */
  memoDir?: string;
  /** `text` (the default): the text models; `mmproj`: the models whose projector it exports (`--mmproj`). */
  kind?: "text" | "mmproj";
  signal?: AbortSignal;
}

/** The text-model architectures a converter supports, from its own `--print-supported-models`. */
export async function listConverterArchitectures(params: ListConverterArchitecturesParams): Promise<string[]> {
  const ask = () => printSupportedModels(params);
  if (!params.memoDir || params.kind === "mmproj") return ask();
  // The converter is the script and its `conversion` package (gguf-py's tables name nothing it lists), run by this Python.
  const conversion = join(params.toolchain.llamaCppDir, "conversion");
  const modules = (await readdir(conversion).catch(() => [] as string[])).filter((f) => f.endsWith(".py")).sort();
  return rememberByIdentity({
    dir: params.memoDir,
    name: "architectures",
    files: [params.toolchain.scripts.convertHf, params.toolchain.python, conversion, ...modules.map((f) => join(conversion, f))],
    compute: ask,
    keep: (names) => names.length > 0,
  });
}

async function printSupportedModels(params: ListConverterArchitecturesParams): Promise<string[]> {
  const out = await runToolToEnd({
    tool: "convert_hf_to_gguf.py --print-supported-models",
    command: params.toolchain.python,
    args: [params.toolchain.scripts.convertHf, "--print-supported-models"],
    cwd: params.toolchain.llamaCppDir,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  const names: string[] = [];
  const section = params.kind === "mmproj" ? "MMPROJ" : "TEXT";
  let inSection = false;
  for (const line of out.lines) {
    const text = line.replace(/^[A-Z]+:[^:]*:/, "").trim();
    if (new RegExp(`^${section} models:`).test(text)) inSection = true;
    else if (/^[A-Z]+ models:/.test(text)) inSection = false;
    else if (inSection && text.startsWith("- ")) names.push(text.slice(2).trim());
  }
  return names;
}
