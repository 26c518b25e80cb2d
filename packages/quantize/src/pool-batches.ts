export interface PoolBatchesParams {
  /** One quant's mean KL divergence in each batch, with the batch's chunks (every chunk scores as many tokens). */
  batches: { chunks: number; kldMean: number }[];
}

export interface PoolBatchesOutput {
  kldMean: number;
  /**
   * The standard error of that mean from how much the batches differ (the batch-means method): tokens of one passage
   * are alike, so the spread between batches, not between tokens, says how far the mean may be off. NaN for fewer
   * than two batches.
   */
  kldSe: number;
  chunks: number;
}

/** The chunk-weighted mean of batch means, and its standard error from their spread. */
export function poolBatches(params: PoolBatchesParams): PoolBatchesOutput {
  const { batches } = params;
  const chunks = batches.reduce((n, b) => n + b.chunks, 0);
  const mean = batches.reduce((s, b) => s + b.chunks * b.kldMean, 0) / chunks;
  if (batches.length < 2) return { kldMean: mean, kldSe: Number.NaN, chunks };
  const g = batches.length;
  const variance = (g / (g - 1)) * batches.reduce((s, b) => s + (b.chunks / chunks) ** 2 * (b.kldMean - mean) ** 2, 0);
  return { kldMean: mean, kldSe: Math.sqrt(variance), chunks };
}
