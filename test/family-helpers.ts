import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execa } from "execa";
import { cacheRoot } from "@gguf-pipeline/core";
import { fixturesDir, toolchain } from "./helpers.js";

/** The families test/fixtures/make_family_model.py makes, each with its real vocabulary and chat template. */
export const families = ["qwen2.5", "qwen3", "deepseek-r1-distill-qwen", "llama3.2", "mistral", "phi3.5", "qwen3-moe", "gemma2", "gemma3"] as const;
export type Family = (typeof families)[number];

/**
 * A family's tiny model, made once per generator and llama.cpp pin into the cache (`fixtures/`), and checked there:
 * its rebuilt tokenizer reproduces llama.cpp's test vectors for the vocabulary. Tests copy or read it, never change it.
 */
export async function familyModel(family: Family): Promise<string> {
  const tc = await toolchain();
  const generator = await readFile(join(fixturesDir, "make_family_model.py"));
  const key = createHash("sha256").update(generator).update(tc.commit).update(family).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), "fixtures", `${family}-${key}`);
  if (existsSync(join(dir, "config.json"))) return dir;
  const partial = `${dir}.${process.pid}.tmp`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(dir, ".."), { recursive: true });
  await execa(tc.python, [join(fixturesDir, "make_family_model.py"), family, partial, "--llama-cpp", tc.llamaCppDir, "--check"], { env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false" } });
  await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true }));
  return dir;
}
