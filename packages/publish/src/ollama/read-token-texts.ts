import { scanGguf } from "@gguf-pipeline/core";

export interface ReadTokenTextsParams {
  file: string;
  /** Token ids whose text is wanted (e.g. EOS and EOT). */
  ids: number[];
}

/**
 * The texts of a few tokens of a GGUF's `tokenizer.ggml.tokens`, picked while the header is scanned: every other token
 * is skipped over, so a 256k-token vocabulary is never held in memory. Ids past the vocabulary, or a file without one,
 * give no entry.
 */
export async function readTokenTexts(params: ReadTokenTextsParams): Promise<Map<number, string>> {
  const ids = params.ids.filter((id) => Number.isInteger(id) && id >= 0);
  const found = new Map<number, string>();
  if (ids.length === 0) return found;
  const header = await scanGguf({ file: params.file, pick: { key: "tokenizer.ggml.tokens", indices: ids } });
  const tokens = header.metadata["tokenizer.ggml.tokens"];
  for (const id of ids) {
    const text = Array.isArray(tokens) ? tokens[id] : typeof tokens === "object" ? (tokens.head[id] ?? tokens.picked?.[id]) : undefined;
    if (typeof text === "string") found.set(id, text);
  }
  return found;
}
