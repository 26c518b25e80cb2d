#!/usr/bin/env node
import { main } from "./main.js";

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
