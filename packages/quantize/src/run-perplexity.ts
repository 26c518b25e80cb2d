import { runToolToEnd } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { QualityParseError } from "./errors.js";

// llama-perplexity prints its statistics through llama.cpp's async logger. The pinned build drains it at exit
// (native/patches), but a user's own llama.cpp may drop the last lines when the process exits quickly; the run is
// deterministic, so a run whose statistics did not arrive is repeated.
const attempts = 4;

export interface RunPerplexityParams<T> {
  toolchain: Toolchain;
  /** Its arguments, `-m FILE` first. */
  args: string[];
  cwd: string;
  /** The numbers wanted from its output, or the name of what is missing. */
  read: (text: string) => T | string;
  signal?: AbortSignal;
}

/** Runs llama-perplexity until `read` finds its numbers. */
export async function runPerplexity<T>(params: RunPerplexityParams<T>): Promise<T> {
  const file = params.args[1] ?? "";
  for (let attempt = 1; ; attempt++) {
    const out = await runToolToEnd({ tool: "llama-perplexity", command: params.toolchain.tools.perplexity, args: params.args, cwd: params.cwd, file, ...(params.signal ? { signal: params.signal } : {}) });
    const result = params.read(out.lines.join("\n"));
    if (typeof result !== "string") return result;
    if (attempt >= attempts) throw new QualityParseError({ file, missing: `${result} (${attempts} runs)` });
  }
}
