import type { Artifact, RunReport } from "@gguf-pipeline/core";

export interface PublishedReportParams {
  report: RunReport;
  /** The files this repo holds (after any split for the Hub's size limit). */
  artifacts: Artifact[];
}

const shardSuffix = /-\d{5}-of-\d{5}(\.gguf)$/;

/**
 * report.json as published: the run's report for this repo's files, without what changes from run to run or names
 * this machine (times, stage timings, earlier publications, other files, the recipe's local path, the toolchain's local
 * folder). An unchanged re-run therefore publishes it byte for byte as before, and makes no commit.
 */
export function publishedReport(params: PublishedReportParams): string {
  const { startedAt: _started, finishedAt: _finished, stages: _stages, published: _published, otherFiles: _other, ...stable } = params.report;
  const here = new Set(params.artifacts.flatMap((a) => [a.path, a.path.replace(shardSuffix, "$1")]));
  const validation = stable.validation
    ? { ...stable.validation, files: Object.fromEntries(Object.entries(stable.validation.files).filter(([path]) => here.has(path))) }
    : undefined;
  const report = {
    ...stable,
    recipe: { sha256: stable.recipe.sha256 },
    tools: { ...stable.tools, llamaCppSource: withoutLocalPaths(stable.tools.llamaCppSource) },
    artifacts: params.artifacts,
    ...(validation ? { validation } : {}),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** "node-llama-cpp@3.22.1 (/root/.cache/…)" → "node-llama-cpp@3.22.1": a home folder has no place in a public repo. */
function withoutLocalPaths(text: string): string {
  return text.replace(/\s*\((?:\/|[A-Za-z]:\\)[^)]*\)/g, "").trim();
}
