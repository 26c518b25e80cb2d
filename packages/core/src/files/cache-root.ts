import { homedir } from "node:os";
import { join } from "node:path";

export interface CacheRootParams {
  env?: NodeJS.ProcessEnv;
}

/**
 * Where builds, the Python env and file-hash memos live: outside any clone, so a fresh clone reuses them.
 * `GGUF_PIPELINE_CACHE` wins, then `$XDG_CACHE_HOME/gguf-pipeline`, then `~/.cache/gguf-pipeline`.
 */
export function cacheRoot(params: CacheRootParams = {}): string {
  const env = params.env ?? process.env;
  if (env.GGUF_PIPELINE_CACHE) return env.GGUF_PIPELINE_CACHE;
  const xdg = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "gguf-pipeline");
}
