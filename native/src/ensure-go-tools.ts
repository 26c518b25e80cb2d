import type { StageEvent } from "@gguf-pipeline/core";
import { ensureGoTool, type GoToolBuild } from "./ensure-go-tool.js";
import { goToolNames, type GoToolName } from "./go-tools-pin.js";

export interface EnsureGoToolsParams {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Every pinned tool by default. */
  names?: readonly GoToolName[];
}

/** Every helper binary the tests run (ollama, registry, actionlint), built one after the other: Go already uses every core. */
export async function* ensureGoTools(params: EnsureGoToolsParams = {}): AsyncGenerator<StageEvent, Partial<Record<GoToolName, GoToolBuild>>> {
  const out: Partial<Record<GoToolName, GoToolBuild>> = {};
  for (const name of params.names ?? goToolNames) {
    out[name] = yield* ensureGoTool({ name, ...(params.signal ? { signal: params.signal } : {}), ...(params.env ? { env: params.env } : {}) });
  }
  return out;
}
