import { relative } from "node:path";
import type { RunReport } from "@gguf-pipeline/core";

export interface FormatWhereParams {
  report: RunReport;
  /** The output folder, absolute. */
  outDir: string;
  /** report.json, absolute. */
  reportPath: string;
  /** Paths are shown relative to this folder (the user's working folder) when that is shorter. */
  cwd?: string;
}

/**
 * The last lines of a run: where each thing it made is — the model files, the importance matrix, the quality chart,
 * the Hub commit (sent, or written into a folder), the Ollama Modelfiles and how to create one, the report.
 */
export function formatWhere(params: FormatWhereParams): string[] {
  const { report } = params;
  const cwd = params.cwd ?? process.cwd();
  const rel = relative(cwd, params.outDir);
  const out = rel && !rel.startsWith("..") && rel.length < params.outDir.length ? rel : params.outDir;
  const at = (path: string) => `${out}/${path}`;
  const of = (stage: (s: string) => boolean) => report.artifacts.filter((a) => stage(a.stage));
  const models = of((s) => s === "convert" || s === "merge" || s === "quantize" || s === "choose");
  const lines = [`made in ${out}/:`];
  const row = (what: string, text: string) => lines.push(`  ${what.padEnd(8)} ${text}`);
  if (models.length > 0) row("models", models.map((a) => a.path).join(", "));
  for (const a of of((s) => s === "mmproj")) row("vision", `${a.path} (the projector: llama-mtmd-cli -m MODEL --mmproj ${a.path} --image …)`);
  const adapters = of((s) => s === "adapter");
  if (adapters.length > 0) row("adapters", adapters.map((a) => a.path).join(", "));
  for (const a of of((s) => s === "imatrix")) row("imatrix", a.path);
  for (const a of of((s) => s.endsWith(":chart"))) row("chart", `${a.path} (bits per weight against KL divergence)`);
  for (const hub of report.published?.hf ?? []) {
    if (hub.folder) row("hub", `${hub.folder}/ — README.md (the model card) and the files a commit to ${hub.repo} would hold, not sent`);
    else if (hub.commit) row("hub", `${hub.commit.url}`);
    else if (hub.pullRequestUrl) row("hub", hub.pullRequestUrl);
  }
  const ollama = report.published?.ollama;
  if (ollama) {
    const latest = ollama.tags.find((t) => t.tag.endsWith(":latest")) ?? ollama.tags[0];
    const created = ollama.tags.some((t) => t.created);
    if (latest) row("ollama", `${ollama.folder}/<tag>/Modelfile${created ? `, created on ${ollama.host ?? "the server"}: ollama run ${latest.tag}` : ` — with Ollama: ollama create ${latest.tag} -f ${at(`${latest.folder}/Modelfile`)}`}`);
  }
  row("report", `${relative(params.outDir, params.reportPath)} (pipeline report ${out})`);
  return lines;
}
