import { parseGgufShardFilename } from "@huggingface/gguf";
import { isProjectorPath } from "./is-projector-path.js";

/**
 * The bits of a file's quant label, as llama.cpp reads them: the last `-`/`.`-separated word of the name without
 * `.gguf` and shard suffix, its first run of digits (Q4_K_M → 4, F16 and BF16 → 16); 0 when there is none.
 */
function quantBits(path: string): number {
  const stem = path.replace(/\.gguf$/i, "").replace(/-\d{5}-of-\d{5}$/i, "");
  const label = /[-.]([A-Z0-9_]+)$/i.exec(stem)?.[1] ?? "";
  const digits = /\d+/.exec(label)?.[0];
  return digits ? Number(digits) : 0;
}

/**
 * The projector that goes with the GGUF `model` in an Ollama manifest, or undefined when the repo has none.
 *
 * The Hub adds one: `ollama pull hf.co/{repo}:Q4_K_M` of a repo with an mmproj file pulls the model and a "vision
 * projector" layer (ollama/ollama#17409), which Ollama v0.24.0 loads from the media type
 * `application/vnd.ollama.image.projector` (server/images.go). Which file it takes when there are several is not
 * published; ours is llama.cpp's `-hf` rule (common/download.cpp `find_best_sibling`, pinned de3ff815): a projector in
 * the model's folder or one above it, the deepest such folder first, then the quant closest in bits to the model's,
 * then the first in path order. Shards are left out (Ollama cannot pull them).
 */
export function pickProjector(params: { paths: string[]; model: string }): string | undefined {
  const modelDir = params.model.split("/").slice(0, -1);
  const modelBits = quantBits(params.model);
  let best: { path: string; depth: number; diff: number } | undefined;
  for (const path of [...params.paths].sort()) {
    if (!isProjectorPath(path) || parseGgufShardFilename(path) !== null) continue;
    const dir = path.split("/").slice(0, -1);
    if (dir.some((part, i) => modelDir[i] !== part)) continue;
    const depth = dir.length;
    const diff = Math.abs(quantBits(path) - modelBits);
    if (!best || depth > best.depth || (depth === best.depth && diff < best.diff)) best = { path, depth, diff };
  }
  return best?.path;
}
