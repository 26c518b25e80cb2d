import type { StageEvent } from "@gguf-pipeline/core";

export type Emit = (event: StageEvent) => void;

/** Runs a stage generator to its end, handing each event to `emit`, and returns the stage's result. */
export async function drain<T>(gen: AsyncGenerator<StageEvent, T>, emit: Emit): Promise<T> {
  let finished = false;
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        finished = true;
        return next.value;
      }
      emit(next.value);
    }
  } finally {
    // If emit threw, stop the stage (and the tool it runs) instead of leaving it suspended.
    if (!finished) await gen.return(undefined as never);
  }
}
