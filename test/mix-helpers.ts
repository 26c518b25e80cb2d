import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execa } from "execa";
import { cacheRoot } from "@gguf-pipeline/core";
import { fixturesDir, toolchain } from "./helpers.js";

/**
 * Shapes of tiny Llamas trained on test/fixtures/corpus.txt (300 steps) until their layers differ: random weights have
 * no sensitivity to find. Rows of 256 and more, so every tensor takes every K-quant.
 */
export const trainedShapes = {
  /** 3.3 M weights: 4 layers of 256. */
  a: ["--hidden", "256", "--layers", "4", "--intermediate", "768"],
  /** Wider and shallower, with a larger vocabulary: 2 layers of 512. */
  b: ["--hidden", "512", "--layers", "2", "--intermediate", "1024", "--heads", "8", "--kv-heads", "4", "--vocab", "1024"],
} as const;

/** A trained tiny model, made once per generator and shape into the cache (`fixtures/`). Tests read it, never change it. */
export async function trainedModel(shape: keyof typeof trainedShapes): Promise<string> {
  const tc = await toolchain();
  const generator = await readFile(join(fixturesDir, "make_tiny_llama.py"));
  const args = trainedShapes[shape];
  const key = createHash("sha256").update(generator).update(args.join(" ")).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), "fixtures", `trained-${shape}-${key}`);
  if (existsSync(join(dir, "config.json"))) return dir;
  const partial = `${dir}.${process.pid}.tmp`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(dir, ".."), { recursive: true });
  await execa(tc.python, [join(fixturesDir, "make_tiny_llama.py"), partial, ...args, "--steps", "300"], { env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" } });
  await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true }));
  return dir;
}
