import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { PipelineError } from "@gguf-pipeline/core";

/**
 * Bytes of llama-perplexity's KL-divergence base (tools/perplexity): "_logits_", n_ctx, n_vocab and n_chunk, every
 * chunk's tokens (int32), then for the second half of each chunk's context but its last token, the log-probabilities
 * over the vocabulary (uint16, padded to an even count plus 4).
 */
export function kldBaseBytes(params: { ctx: number; vocab: number; chunks: number }): number {
  const { ctx, vocab, chunks } = params;
  const perToken = (2 * Math.floor((vocab + 1) / 2) + 4) * 2;
  return 20 + chunks * ctx * 4 + chunks * (ctx - 1 - Math.floor(ctx / 2)) * perToken;
}

/**
 * llama-perplexity writes its base through an unchecked std::ofstream: on a full disk it exits 0 with a short file,
 * whose every later KL divergence would be wrong. The file says how long it must be.
 */
export async function checkKldBase(file: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(20);
    const { bytesRead } = await handle.read(head, 0, 20, 0);
    const ok = bytesRead === 20 && head.toString("latin1", 0, 8) === "_logits_";
    const expected = ok ? kldBaseBytes({ ctx: head.readInt32LE(8), vocab: head.readInt32LE(12), chunks: head.readInt32LE(16) }) : undefined;
    if (expected === size) return;
    throw new PipelineError({
      message: `llama-perplexity wrote ${size} bytes of the KL-divergence base${expected ? `, not the ${expected} it describes` : ", without its header"}: the disk is probably full`,
      exitCode: 1,
      file: dirname(file),
      hint: "free some space, or point --out at a disk with room",
    });
  } finally {
    await handle.close();
  }
}
