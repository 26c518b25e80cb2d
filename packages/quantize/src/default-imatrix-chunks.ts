/**
 * The compute an importance matrix gets when the recipe does not say how many chunks: 6·10¹³ floating-point
 * operations (2 per weight per token), about 10 minutes at 100 GFLOP/s — what 2 cores measure here
 * (`pipeline doctor` shows this machine's speed).
 */
export const IMATRIX_FLOP_BUDGET = 6e13;
/** Never fewer chunks than this: an importance matrix from less text is mostly noise. */
export const IMATRIX_MIN_CHUNKS = 16;

export interface DefaultImatrixChunksParams {
  /** The model's weights (its GGUF's parameter count). */
  weights: number;
  ctx: number;
}

/**
 * How many ctx-sized chunks of the calibration text llama-imatrix reads by default: as many as the budget pays for,
 * at least IMATRIX_MIN_CHUNKS (the text itself is the other cap). A rule of the model alone, not of the machine, so
 * every machine makes the same matrix, and so the same quants, from the same recipe: a 135M model reads the whole
 * default text, a 1.7B about 34 chunks of 512, a 7B the minimum 16.
 */
export function defaultImatrixChunks(params: DefaultImatrixChunksParams): number {
  return Math.max(IMATRIX_MIN_CHUNKS, Math.floor(IMATRIX_FLOP_BUDGET / (2 * params.weights * params.ctx)));
}
