import { describe, expect, it } from "vitest";
import { planConcurrency } from "./plan-concurrency.js";

describe("planConcurrency", () => {
  it("should bound the ladder by cores (4+ threads a job) and by memory, and share the cores", () => {
    expect(planConcurrency({ jobs: 5, inputBytes: 1e6, cores: 2, freeMemoryBytes: 20e9 })).toEqual({ concurrency: 1, threads: 2 });
    expect(planConcurrency({ jobs: 8, inputBytes: 1e6, cores: 32, freeMemoryBytes: 200e9 })).toEqual({ concurrency: 8, threads: 4 });
    expect(planConcurrency({ jobs: 5, inputBytes: 16e9, cores: 16, freeMemoryBytes: 40e9 })).toEqual({ concurrency: 2, threads: 8 });
    expect(planConcurrency({ jobs: 3, inputBytes: 1e6, cores: 16, freeMemoryBytes: 20e9 })).toEqual({ concurrency: 3, threads: 5 });
    expect(planConcurrency({ jobs: 6, inputBytes: 1e6, cores: 16, freeMemoryBytes: 20e9 })).toEqual({ concurrency: 4, threads: 4 });
    // Never less than one job, even when the model does not fit in free memory.
    expect(planConcurrency({ jobs: 4, inputBytes: 100e9, cores: 8, freeMemoryBytes: 10e9 })).toEqual({ concurrency: 1, threads: 8 });
  });
});
