#!/usr/bin/env node
import module from "node:module";

// Node >= 22.1 keeps V8's compiled code of the modules it loads between runs (in NODE_COMPILE_CACHE, else the temp
// folder): measured on Node 22.23, main.js loads in 137 ms instead of 160. Node 20 has no such cache. It must be on
// before main.js and its ~400 modules load, hence the dynamic import.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import("./main.js");

// `pipeline report out | head`: a reader that went away is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

const controller = new AbortController();
let interrupts = 0;
for (const name of ["SIGINT", "SIGTERM"] as const) {
  process.on(name, () => {
    interrupts++;
    // The first interrupt cancels cleanly (the tool is stopped, partial files removed); a second one gives up waiting.
    if (interrupts > 1) process.exit(130);
    controller.abort();
  });
}
process.exitCode = await main({ argv: process.argv.slice(2), signal: controller.signal });
