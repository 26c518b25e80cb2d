#!/usr/bin/env node
import { main } from "./main.js";

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
