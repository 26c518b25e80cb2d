import { availableParallelism } from "node:os";
import { IllegalInstructionError, runToolToEnd, ToolError } from "@gguf-pipeline/core";

export interface SmokeTestParams {
  file: string;
  /** llama.cpp's llama-completion. */
  completionTool: string;
  prompt: string;
  tokens: number;
  signal?: AbortSignal;
}

export interface SmokeTestOutput {
  ok: boolean;
  /** What it generated (or why it did not), for the report. */
  fact: string;
  text: string;
}

/**
 * Loads a GGUF with llama-completion and generates `tokens` tokens (greedy) for a prompt rendered through the model's
 * own chat template (single-turn conversation, jinja). Fails when the file does not load, the template does not render,
 * nothing is generated, or the output is one character over and over (e.g. zeroed weights).
 */
export async function smokeTest(params: SmokeTestParams): Promise<SmokeTestOutput> {
  try {
    const out = await runToolToEnd({
      tool: "llama-completion",
      command: params.completionTool,
      args: ["-m", params.file, "-cnv", "-st", "--jinja", "-p", params.prompt, "-n", String(params.tokens), "--temp", "0", "--simple-io", "--no-warmup", "--no-display-prompt", "-lv", "3", "-t", String(availableParallelism())],
      file: params.file,
      // The cause of a failure can sit far above its last lines (a template's parser error, then a stack of aborts).
      tailLines: 400,
      ...(params.signal ? { signal: params.signal } : {}),
    });
    const runs = Number(/eval time =.*\/\s*(\d+) runs/.exec(out.lines.join("\n"))?.[1] ?? 0);
    // The generation is on stdout; llama.cpp's logs go to stderr.
    const text = out.stdout.replace(/^>\s*/gm, "").trim();
    if (runs === 0 && !text) return { ok: false, fact: "no tokens generated", text };
    const distinct = new Set(text.replace(/\s/g, "")).size;
    if (distinct <= 1) return { ok: false, fact: `degenerate output ${JSON.stringify(text.slice(0, 40))}: the weights look broken`, text };
    return { ok: true, fact: `${runs || "some"} tokens through the chat template: ${JSON.stringify(text.slice(0, 60))}`, text };
  } catch (error) {
    // A tool killed by SIGILL is not this file's fault: the toolchain does not run here, and the run ends on it.
    if (error instanceof ToolError && !(error instanceof IllegalInstructionError)) {
      const lines = error.stderrTail.split("\n");
      const cause = [/error/i, /failed/i, /exception/i].map((re) => lines.find((l) => re.test(l))).find(Boolean) ?? error.message;
      return { ok: false, fact: `llama-completion failed: ${cause.replace(/^[\d.]+ [A-Z] /, "").trim().slice(0, 200)}`, text: "" };
    }
    throw error;
  }
}
