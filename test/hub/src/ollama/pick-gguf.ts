import { GGMLFileQuantizationType, findNearestQuantType, parseGGUFQuantLabel, parseGgufShardFilename } from "@huggingface/gguf";
import { HubError } from "../hub-error.js";
import { isProjectorPath } from "./is-projector-path.js";

/** The GGUF a tag names, and the quant label it goes by (undefined for a file whose name has none). */
export interface PickedGguf {
  path: string;
  label: string | undefined;
}

// The Hub's words (seen in Ollama's error output; "not available" is our guess, see the README).
const NOT_GGUF = "Repository is not GGUF or is not compatible with llama.cpp";
const NOT_A_SCHEME = 'The specified tag is not a valid quantization scheme. Please use another tag or "latest"';
const NOT_AVAILABLE = 'The specified tag is not available in the repository. Please use another tag or "latest"';
const SHARDED_TAG = 'The specified tag is a sharded GGUF. Ollama does not support this yet. Please use another tag or "latest". Follow this issue for more info: https://github.com/ollama/ollama/issues/5245';
const ONLY_SHARDED =
  "This repository only contains sharded GGUF files. Ollama does not yet support pulling sharded GGUF via the registry; please download the shards and merge them locally with `ollama create` (workaround detailed at https://github.com/ollama/ollama/issues/5245), or use a repository with single-file quantizations.";

const DEFAULT_QUANT = "Q4_K_M";

function refuse(message: string): HubError {
  return new HubError({ status: 400, message });
}

/** A label's file type for the Hub's size order (`UD-` is unsloth's prefix for the same scheme). */
function quantType(label: string | undefined): GGMLFileQuantizationType | undefined {
  const value: unknown = label ? GGMLFileQuantizationType[label.replace(/^UD-/, "") as keyof typeof GGMLFileQuantizationType] : undefined;
  return typeof value === "number" ? value : undefined;
}

/**
 * The file `ollama run hf.co/{repo}:{tag}` gets: the tag is a quant label, compared case-insensitively with the last
 * quant label in each GGUF's upper-cased path (@huggingface/gguf's `parseGGUFQuantLabel`, the Hub's own rule).
 * `latest` is Q4_K_M when present, else the nearest smaller quant (`findNearestQuantType`), else the first GGUF.
 * Vision projectors and imatrix files are never the model; shards are refused, as the Hub refuses them.
 */
export function pickGguf(params: { paths: string[]; tag: string }): PickedGguf {
  const ggufs = params.paths
    .filter((path) => path.toLowerCase().endsWith(".gguf") && !isProjectorPath(path) && !/imatrix/i.test(path.split("/").pop() ?? path))
    .sort()
    .map((path) => ({ path, label: parseGGUFQuantLabel(path), shard: parseGgufShardFilename(path) !== null }));
  if (ggufs.length === 0) throw refuse(NOT_GGUF);
  const whole = ggufs.filter((g) => !g.shard);
  if (params.tag.toLowerCase() !== "latest") {
    const wanted = params.tag.toUpperCase();
    if (parseGGUFQuantLabel(wanted) !== wanted) throw refuse(NOT_A_SCHEME);
    const found = whole.find((g) => g.label === wanted);
    if (found) return { path: found.path, label: found.label };
    throw refuse(ggufs.some((g) => g.label === wanted) ? SHARDED_TAG : NOT_AVAILABLE);
  }
  if (whole.length === 0) throw refuse(ONLY_SHARDED);
  const preferred = whole.find((g) => g.label === DEFAULT_QUANT);
  const typed = whole.flatMap((g) => {
    const type = quantType(g.label);
    return type === undefined ? [] : [{ ...g, type }];
  });
  const nearest = findNearestQuantType(GGMLFileQuantizationType.Q4_K_M, typed.map((g) => g.type));
  const chosen = preferred ?? typed.find((g) => g.type === nearest) ?? whole[0];
  if (!chosen) throw refuse(NOT_GGUF);
  return { path: chosen.path, label: chosen.label };
}
