export interface PlanConcurrencyParams {
  jobs: number;
  /** Bytes of the intermediate: each running llama-quantize reads all of it (RAM or page cache). */
  inputBytes: number;
  cores: number;
  freeMemoryBytes: number;
}

export interface ConcurrencyPlan {
  /** How many quants run at once. */
  concurrency: number;
  /** Threads each llama-quantize gets. */
  threads: number;
}

/** As many quants at once as cores and free memory allow (at least one), with the cores shared between them. */
export function planConcurrency(params: PlanConcurrencyParams): ConcurrencyPlan {
  const byMemory = Math.floor((params.freeMemoryBytes * 0.8) / Math.max(params.inputBytes, 1));
  const concurrency = Math.max(1, Math.min(params.jobs, params.cores, byMemory));
  return { concurrency, threads: Math.max(1, Math.floor(params.cores / concurrency)) };
}
