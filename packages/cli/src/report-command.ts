import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError, type RunReport } from "@gguf-pipeline/core";
import { formatBytes } from "@gguf-pipeline/convert";

export interface ReportCommandParams {
  outDir: string;
}

/** `pipeline report OUTDIR`: the run's report.json. */
export async function reportCommand(params: ReportCommandParams): Promise<RunReport> {
  const file = join(params.outDir, "report.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as RunReport;
  } catch (error) {
    throw new InputError({ file, message: "no readable report.json here", hint: "pass the output folder of a finished `pipeline run`", cause: error });
  }
}

/** One row per GGUF file: type, size, bits per weight, and the measured quality where there is one. */
export function formatReport(report: RunReport): string[] {
  const rows = report.artifacts
    .filter((a) => a.path.endsWith(".gguf") && a.stage !== "imatrix")
    .map((a) => [
      a.path,
      a.ggufType ?? "",
      formatBytes(a.bytes),
      fixed(a.quant?.bitsPerWeight, 2),
      fixed(a.quality?.ppl, 4),
      fixed(a.quality?.kldMean, 6),
      fixed(a.quality?.kldP99, 6),
      a.quality ? `${fixed(a.quality.top1, 2)}%` : "",
      a.quant?.imatrix ?? "",
    ]);
  const header = ["file", "type", "size", "bpw", "PPL", "KLD mean", "KLD p99", "top-1", "imatrix"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const evaluated = report.artifacts.find((a) => a.quality)?.quality;
  return [
    line(header),
    ...rows.map(line),
    ...(evaluated ? ["", `quality: llama-perplexity on ${evaluated.text} at ctx ${evaluated.ctx}, against ${report.artifacts.find((a) => a.stage === "convert")?.path ?? "the reference"}`] : []),
    `llama.cpp ${report.tools.llamaCppCommit.slice(0, 12)} · recipe sha256 ${report.recipe.sha256.slice(0, 12)} · ${report.finishedAt}`,
  ];
}

function fixed(value: number | undefined | null, digits: number): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "";
}
