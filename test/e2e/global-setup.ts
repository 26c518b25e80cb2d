import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import type { StageEvent } from "@gguf-pipeline/core";
import { ensureGoTools, ensureToolchain } from "@gguf-pipeline/native";

/**
 * Builds the pinned llama.cpp and the Python env, then the test servers' binaries (ollama, registry, actionlint, from
 * the Go module proxy), once before the end-to-end files: a no-op when cached.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await drain(ensureToolchain());
  await drain(ensureGoTools());
  // Every test's folder (`tempDir`) goes under one root, removed when the run ends: one run writes gigabytes of models,
  // quants and candidates (the budget tests alone 1.7 GB), which filled the disk after a few dozen runs.
  const root = await mkdtemp(join(tmpdir(), "gguf-pipeline-e2e-"));
  project.provide("e2eTempRoot", root);
  return () => rm(root, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    e2eTempRoot: string;
  }
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
