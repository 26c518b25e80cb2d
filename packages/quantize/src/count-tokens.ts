import { runToolToEnd } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";

export interface CountTokensParams {
  /** A GGUF whose tokenizer counts (only its vocabulary is loaded). */
  model: string;
  text: string;
  toolchain: Toolchain;
  signal?: AbortSignal;
}

/** How many tokens a text is for a model, with llama-tokenize (the tokenizer llama-perplexity and llama-imatrix use). */
export async function countTokens(params: CountTokensParams): Promise<number> {
  const out = await runToolToEnd({
    tool: "llama-tokenize",
    command: params.toolchain.tools.tokenize,
    args: ["-m", params.model, "-f", params.text, "--ids", "--show-count", "--log-disable"],
    file: params.text,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  const count = /Total number of tokens: (\d+)/.exec(out.stdout)?.[1];
  if (count === undefined) throw new Error(`llama-tokenize printed no token count for ${params.text}`);
  return Number(count);
}
