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

// llama-quantize spreads one file over its threads well, so a job gets at least this many before jobs run side by side
// (measured in bench/: on 2 cores, 2 jobs × 1 thread took 1.36× a serial loop, 1 job × 2 threads 1.10×).
const minThreadsPerJob = 4;

/**
 * How many quants at once (bounded by cores, at least 4 threads each, and by free memory: each reads the whole
 * intermediate) and how many threads each gets. Always at least one job.
 */
export function planConcurrency(params: PlanConcurrencyParams): ConcurrencyPlan {
  const byMemory = Math.floor((params.freeMemoryBytes * 0.8) / Math.max(params.inputBytes, 1));
  const byCores = Math.floor(params.cores / minThreadsPerJob);
  const concurrency = Math.max(1, Math.min(params.jobs, byCores, byMemory));
  return { concurrency, threads: Math.max(1, Math.floor(params.cores / concurrency)) };
}
