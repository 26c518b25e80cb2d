import type { Artifact } from "./report/report-types.js";

/** What a stage yields while it works; the CLI renders these, libraries never print. */
export type StageEvent =
  | { type: "start"; stage: string; title: string }
  | { type: "progress"; stage: string; message: string; ratio?: number }
  | { type: "log"; stage: string; level: "info" | "warn"; message: string }
  | { type: "cache-hit"; stage: string; key: string; message: string }
  | { type: "artifact"; stage: string; artifact: Artifact }
  | { type: "done"; stage: string; title: string; seconds: number; cached: boolean };

/** Common knobs every long-running public function takes. */
export interface RunControl {
  /** Aborts the running tool (SIGTERM, then SIGKILL) and cleans temporary files. */
  signal?: AbortSignal;
}
