import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { kldBaseBytes } from "./kld-base.js";

export interface JoinKldBasesParams {
  /** KL-divergence bases llama-perplexity wrote, of the same context and vocabulary, in order. */
  parts: string[];
  output: string;
  signal?: AbortSignal;
}

export interface JoinKldBasesOutput {
  chunks: number;
  bytes: number;
}

interface BaseHeader {
  ctx: number;
  vocab: number;
  chunks: number;
}

/**
 * One base of all the parts' chunks, as llama-perplexity would have written it for their texts run one after another:
 * its header with the chunk count summed, every part's tokens, then every part's log-probabilities. Streamed; written
 * under a temporary name and renamed once whole. `--kl-divergence` reads its chunks from the base, never the text.
 */
export async function joinKldBases(params: JoinKldBasesParams): Promise<JoinKldBasesOutput> {
  const headers = await Promise.all(params.parts.map(readHeader));
  const first = headers[0];
  if (!first) throw new Error("joinKldBases: no parts");
  const odd = headers.find((h) => h.ctx !== first.ctx || h.vocab !== first.vocab);
  if (odd) throw new Error(`joinKldBases: parts of another context or vocabulary (${odd.ctx}/${odd.vocab} vs ${first.ctx}/${first.vocab})`);
  const chunks = headers.reduce((n, h) => n + h.chunks, 0);
  const head = Buffer.alloc(20);
  head.write("_logits_", 0, "latin1");
  head.writeInt32LE(first.ctx, 8);
  head.writeInt32LE(first.vocab, 12);
  head.writeInt32LE(chunks, 16);
  const partial = `${params.output}.${process.pid}.tmp`;
  try {
    const out = createWriteStream(partial);
    await new Promise<void>((resolve, reject) => out.write(head, (error) => (error ? reject(error) : resolve())));
    const tokenBytes = (h: BaseHeader) => h.chunks * h.ctx * 4;
    // Tokens of every part first, then their log-probabilities: the order llama-perplexity reads them in.
    const ranges = [...headers.map((h, i) => ({ file: params.parts[i] ?? "", start: 20, end: 20 + tokenBytes(h) })), ...headers.map((h, i) => ({ file: params.parts[i] ?? "", start: 20 + tokenBytes(h), end: kldBaseBytes(h) }))];
    for (const range of ranges) {
      if (range.end <= range.start) continue;
      await pipeline(createReadStream(range.file, { start: range.start, end: range.end - 1 }), out, { end: false, ...(params.signal ? { signal: params.signal } : {}) });
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await rename(partial, params.output);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  const bytes = kldBaseBytes({ ...first, chunks });
  return { chunks, bytes };
}

async function readHeader(file: string): Promise<BaseHeader> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await handle.read(head, 0, 20, 0);
    if (bytesRead !== 20 || head.toString("latin1", 0, 8) !== "_logits_") throw new Error(`${file} is not a KL-divergence base`);
    return { ctx: head.readInt32LE(8), vocab: head.readInt32LE(12), chunks: head.readInt32LE(16) };
  } finally {
    await handle.close();
  }
}
