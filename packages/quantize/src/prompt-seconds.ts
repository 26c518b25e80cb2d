export interface PromptSecondsParams {
  /** Weights that take part in each token (all of them for a dense model). */
  weights: number;
  tokens: number;
  /** This machine's measured prompt speed (the self-test's throughput). */
  flopsPerSecond: number;
}

/** About how long llama.cpp takes over a text: 2 operations per weight per token at the measured speed. */
export function promptSeconds(params: PromptSecondsParams): number {
  return (2 * params.weights * params.tokens) / params.flopsPerSecond;
}
