import { ensureToolchain } from "@gguf-pipeline/native";

/** Builds the pinned llama.cpp and the Python env once before the end-to-end files (a no-op when cached). */
export default async function setup(): Promise<void> {
  const run = ensureToolchain();
  for (;;) {
    const next = await run.next();
    if (next.done) return;
    const event = next.value;
    if (event.type === "start" || event.type === "done") process.stderr.write(`[setup] ${event.title}\n`);
    else if (event.type === "progress" && (event.ratio === undefined || Math.round(event.ratio * 100) % 10 === 0)) process.stderr.write(`[setup:${event.stage}] ${event.message}\n`);
  }
}
