import { availableParallelism, freemem } from "node:os";
import { CanceledError, IllegalInstructionError, type Artifact, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { LadderError } from "./errors.js";
import { planConcurrency } from "./plan-concurrency.js";
import type { QuantJob } from "./quant-jobs.js";
import { quantizeOne, type QuantizeOneOutput } from "./quantize-one.js";
import { runInSlots } from "./run-in-slots.js";

export interface RunLadderParams {
  jobs: QuantJob[];
  input: Artifact;
  imatrix?: Artifact;
  outDir: string;
  name: string;
  split?: { bytes: number; spec: string };
  toolchain: Toolchain;
  force?: boolean;
  signal?: AbortSignal;
  /** Override the planned number of concurrent quants. */
  concurrency?: number;
}

export interface LadderOutput {
  results: QuantizeOneOutput[];
  concurrency: number;
  threads: number;
}

/**
 * Runs every quant of the ladder, several at once (bounded by cores and free memory), each from the same intermediate.
 * A failed quant does not stop the others: they finish, and the failures are thrown together at the end as a LadderError.
 */
export async function* runLadder(params: RunLadderParams): AsyncGenerator<StageEvent, LadderOutput> {
  const cores = availableParallelism();
  const planned = planConcurrency({ jobs: params.jobs.length, inputBytes: params.input.bytes, cores, freeMemoryBytes: freemem() });
  const concurrency = params.concurrency ?? planned.concurrency;
  const threads = params.concurrency ? Math.max(1, Math.floor(cores / concurrency)) : planned.threads;
  yield { type: "start", stage: "quantize", title: `Quantize ${params.jobs.length} type(s), ${concurrency} at a time × ${threads} thread(s)` };

  // The ladder's own signal: aborted by the caller's, or when this generator is left early, so no quant outlives it.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  params.signal?.addEventListener("abort", onAbort, { once: true });
  const events: StageEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (event: StageEvent) => {
    events.push(event);
    wake?.();
  };
  const results: QuantizeOneOutput[] = [];
  const failures: { type: string; message: string }[] = [];
  let canceled: unknown;
  // A tool killed by SIGILL means the toolchain does not run on this CPU: the ladder stops, the run ends on that line.
  let illegal: IllegalInstructionError | undefined;
  const runJob = async (job: QuantJob, onToolsDone: () => void) => {
    const { imatrix, signal: _caller, ...rest } = params;
    const run = quantizeOne({ ...rest, job, threads, signal: stop.signal, onToolsDone, ...(job.useImatrix && imatrix ? { imatrix } : {}) });
    try {
      for (;;) {
        const next = await run.next();
        if (next.done) {
          results.push(next.value);
          break;
        }
        push(next.value);
      }
    } catch (error) {
      if (error instanceof IllegalInstructionError) {
        illegal ??= error;
        stop.abort();
        return;
      }
      if (error instanceof CanceledError || stop.signal.aborted) {
        canceled = error;
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ type: job.type, message });
      push({ type: "log", stage: `quantize:${job.type}`, level: "warn", message: `${job.type} failed: ${message}` });
    }
  };
  let finished = false;
  // A rung holds one of the `concurrency` slots while its tools run, not while its output is hashed: that overlaps the
  // next rung's llama-quantize instead of leaving the cores idle between rungs.
  const all = runInSlots({ items: params.jobs, slots: concurrency, run: runJob, signal: stop.signal }).finally(() => {
    finished = true;
    wake?.();
  });
  try {
    while (!finished || events.length > 0) {
      const event = events.shift();
      if (event) {
        yield event;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (finished || events.length > 0) resolve();
      });
      wake = undefined;
    }
    await all;
  } finally {
    if (!finished) {
      stop.abort();
      await all;
    }
    params.signal?.removeEventListener("abort", onAbort);
  }
  if (illegal) throw illegal;
  if (canceled || params.signal?.aborted) throw canceled instanceof CanceledError ? canceled : new CanceledError();
  if (failures.length > 0) throw new LadderError(failures);
  // Report in the order the recipe lists them.
  results.sort((a, b) => params.jobs.findIndex((j) => j.type === a.type) - params.jobs.findIndex((j) => j.type === b.type));
  return { results, concurrency, threads };
}
