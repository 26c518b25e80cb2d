import { readFile } from "node:fs/promises";
import { runToolToEnd } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";

export interface ParagraphTokensParams {
  /** A GGUF whose tokenizer counts (only its vocabulary is loaded). */
  model: string;
  text: string;
  toolchain: Toolchain;
  signal?: AbortSignal;
}

export interface ParagraphTokensOutput {
  /** The text's paragraphs (blank-line separated, else lines), in order, each with about how many tokens it is. */
  paragraphs: { text: string; tokens: number }[];
  /** The whole text's tokens, as llama-perplexity counts them. */
  total: number;
}

/**
 * How many tokens each paragraph of a text is, from ONE llama-tokenize run over the whole text: its pieces, laid end
 * to end, give each token's byte offset in the text, and a token counts for the paragraph it starts in. (The offsets
 * drift by the BOS piece and a leading space where the tokenizer adds them: a token or so, nothing a sample notices.)
 */
export async function paragraphTokens(params: ParagraphTokensParams): Promise<ParagraphTokensOutput> {
  const sig = params.signal ? { signal: params.signal } : {};
  const tokenize = (extra: string[]) => runToolToEnd({ tool: "llama-tokenize", command: params.toolchain.tools.tokenize, args: ["-m", params.model, "-f", params.text, "--log-disable", ...extra], file: params.text, ...sig });
  const ids = JSON.parse((await tokenize(["--ids"])).stdout.trim().split("\n").at(-1) ?? "[]") as number[];
  const pieces = pieceLengths((await tokenize([])).stdoutBytes, ids);
  const text = await readFile(params.text, "utf8");
  const separator = text.includes("\n\n") ? "\n\n" : "\n";
  const paragraphs: { text: string; tokens: number; end: number }[] = [];
  let offset = 0;
  for (const part of text.split(separator)) {
    offset += Buffer.byteLength(part) + Buffer.byteLength(separator);
    if (part.trim()) paragraphs.push({ text: part, tokens: 0, end: offset });
    else if (paragraphs.length) (paragraphs.at(-1) as { end: number }).end = offset;
  }
  let at = 0;
  let p = 0;
  for (const length of pieces) {
    while (p < paragraphs.length - 1 && at >= (paragraphs[p]?.end ?? 0)) p++;
    const paragraph = paragraphs[p];
    if (paragraph) paragraph.tokens++;
    at += length;
  }
  return { paragraphs: paragraphs.map(({ text: t, tokens }) => ({ text: t, tokens })), total: ids.length };
}

/** Each token's piece length in bytes, from llama-tokenize's `%6d -> '<piece>'` lines (pieces may hold any byte). */
export function pieceLengths(out: Buffer, ids: number[]): number[] {
  const lengths: number[] = [];
  let from = 0;
  for (let i = 0; i < ids.length; i++) {
    const head = Buffer.from(`${String(ids[i]).padStart(6)} -> '`);
    const start = out.indexOf(head, from);
    if (start < 0) break;
    const body = start + head.length;
    const next = i + 1 < ids.length ? out.indexOf(Buffer.from(`'\n${String(ids[i + 1]).padStart(6)} -> '`), body) : out.lastIndexOf(Buffer.from("'\n"));
    const end = next < 0 ? body : next;
    lengths.push(end - body);
    from = end;
  }
  return lengths;
}
