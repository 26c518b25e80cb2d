export interface ChunksForPrecisionParams {
  /** Each quant's mean KL divergence and its standard error, measured over `chunks` chunks. */
  measured: { kldMean: number; kldSe: number }[];
  chunks: number;
  /** The standard error wanted, as a share of the mean (0.05: ±5 %). */
  precision: number;
}

/**
 * How many chunks bring every quant's standard error of the mean KL divergence under `precision` of its mean: the
 * error shrinks as one over the square root of the tokens measured, so a quant at e (relative) over n chunks needs
 * n·(e/precision)². A quant identical to the reference (mean 0) needs nothing more.
 */
export function chunksForPrecision(params: ChunksForPrecisionParams): number {
  let needed = params.chunks;
  for (const { kldMean, kldSe } of params.measured) {
    if (!(kldMean > 0) || !Number.isFinite(kldSe)) continue;
    const relative = kldSe / kldMean;
    needed = Math.max(needed, Math.ceil(params.chunks * (relative / params.precision) ** 2));
  }
  return needed;
}
