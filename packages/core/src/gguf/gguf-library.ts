import { createRequire } from "node:module";
import type * as Gguf from "@huggingface/gguf";

type GgufLibrary = typeof Gguf;
let library: GgufLibrary | undefined;

/**
 * @huggingface/gguf, loaded on first use. Imported up front it (with @huggingface/tasks) was ~40 ms of every start of
 * the CLI, before the first tool could run; `preloadGgufLibrary` loads it while a tool runs instead.
 */
export function ggufLibrary(): GgufLibrary {
  return (library ??= createRequire(import.meta.url)("@huggingface/gguf") as GgufLibrary);
}

/** Loads @huggingface/gguf in the background, for a caller that will wait on a tool for a while anyway. */
export function preloadGgufLibrary(): void {
  if (!library) setTimeout(ggufLibrary, 0).unref();
}
