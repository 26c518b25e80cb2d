import type { StageEvent } from "@gguf-pipeline/core";

export type Emit = (event: StageEvent) => void;

/** Runs a stage generator to its end, handing each event to `emit`, and returns the stage's result. */
export async function drain<T>(gen: AsyncGenerator<StageEvent, T>, emit: Emit): Promise<T> {
  for (;;) {
    const next = await gen.next();
    if (next.done) return next.value;
    emit(next.value);
  }
}
