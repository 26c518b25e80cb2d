/** One file the pipeline produced. */
export interface Artifact {
  /** Path relative to the output folder. */
  path: string;
  stage: string;
  sha256: string;
  bytes: number;
  /** `general.file_type` as llama.cpp names it (F32, F16, BF16, Q8_0, ...), for GGUF files. */
  ggufType?: string;
  /** The key of the content cache entry this artifact satisfies. */
  cacheKey: string;
}

export interface StageTiming {
  stage: string;
  seconds: number;
  cached: boolean;
}

export interface ToolVersions {
  llamaCppCommit: string;
  llamaCppSource: string;
  python: string;
  packages: Record<string, string>;
  pipeline: string;
}

/** `report.json` in the output folder. */
export interface RunReport {
  schemaVersion: 1;
  recipe: { path: string; sha256: string };
  startedAt: string;
  finishedAt: string;
  tools: ToolVersions;
  stages: StageTiming[];
  artifacts: Artifact[];
}
