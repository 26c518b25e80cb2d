#!/usr/bin/env node
// `pnpm --filter @gguf-pipeline/native native`: build the pinned llama.cpp and the Python env, printing progress lines.
import { ensureToolchain } from "./ensure-toolchain.js";

const run = ensureToolchain();
for (;;) {
  const next = await run.next();
  if (next.done) {
    console.log(JSON.stringify({ llamaCppDir: next.value.llamaCppDir, binDir: next.value.binDir, python: next.value.python, commit: next.value.commit }));
    break;
  }
  const event = next.value;
  if (event.type === "progress" || event.type === "start" || event.type === "done") console.log(`[${event.stage}] ${"message" in event ? event.message : event.title}`);
}
