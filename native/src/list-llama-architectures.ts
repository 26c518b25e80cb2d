import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The architecture names a llama.cpp source tree knows (general.architecture values), read from its
 * src/llama-arch.cpp table: `{ LLM_ARCH_LLAMA, "llama" }`. Undefined when the tree is not there.
 */
export async function listLlamaArchitectures(params: { llamaCppDir: string }): Promise<string[] | undefined> {
  const text = await readFile(join(params.llamaCppDir, "src", "llama-arch.cpp"), "utf8").catch(() => undefined);
  if (!text) return undefined;
  const names = [...text.matchAll(/\{\s*LLM_ARCH_[A-Z0-9_]+\s*,\s*"([^"]+)"\s*\}/g)].map((m) => m[1] ?? "");
  return names.length > 0 ? names : undefined;
}
