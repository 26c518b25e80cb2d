import type { StageEvent } from "@gguf-pipeline/core";
import { ensureGoTools, ensureToolchain } from "@gguf-pipeline/native";

/**
 * Builds the pinned llama.cpp and the Python env, then the test servers' binaries (ollama, registry, actionlint, from
 * the Go module proxy), once before the end-to-end files: a no-op when cached.
 */
export default async function setup(): Promise<void> {
  await drain(ensureToolchain());
  await drain(ensureGoTools());
}

async function drain(run: AsyncGenerator<StageEvent, unknown>): Promise<void> {
  // `go install -v` names every package it compiles: one line every 10 s is enough to show it is alive.
  let lastGoLine = 0;
  for (;;) {
    const next = await run.next();
    if (next.done) return;
    const event = next.value;
    if (event.type === "start" || event.type === "done") process.stderr.write(`[setup] ${event.title}\n`);
    else if (event.type !== "progress") continue;
    else if (event.stage.startsWith("go:")) {
      if (Date.now() - lastGoLine < 10_000) continue;
      lastGoLine = Date.now();
      process.stderr.write(`[setup:${event.stage}] ${event.message}\n`);
    } else if (event.ratio === undefined || Math.round(event.ratio * 100) % 10 === 0) process.stderr.write(`[setup:${event.stage}] ${event.message}\n`);
  }
}
