import type { StageEvent } from "@gguf-pipeline/core";
import type { GoToolName, GoToolPin } from "./go-tools-pin.js";

/** What a build step gets before `go install` runs. */
export interface GoToolPrepareContext {
  name: GoToolName;
  pin: GoToolPin;
  /** A scratch folder inside the staging entry, removed after the build. */
  workDir: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Yields progress and returns variables to add to the build's environment. */
export type GoToolPrepare = (ctx: GoToolPrepareContext) => AsyncGenerator<StageEvent, Record<string, string>>;
