import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes, InputError, relativePathProblem, type RunReport } from "@gguf-pipeline/core";

export interface ReportCommandParams {
  outDir: string;
}

/** `pipeline report OUTDIR`: the run's report.json. */
export async function reportCommand(params: ReportCommandParams): Promise<RunReport> {
  const file = join(params.outDir, "report.json");
  let report: RunReport;
  try {
    report = JSON.parse(await readFile(file, "utf8")) as RunReport;
  } catch (error) {
    throw new InputError({ file, message: "no readable report.json here", hint: "pass the output folder of a finished `pipeline run`", cause: error });
  }
  if (!Array.isArray(report.artifacts)) throw new InputError({ file, message: "not a report of a `pipeline run` (no artifacts)", hint: "pass the output folder of a finished `pipeline run`" });
  // A report may come from elsewhere (a downloaded part): every file it names must lie inside its folder.
  for (const artifact of report.artifacts) {
    const problem = typeof artifact.path === "string" ? relativePathProblem(artifact.path) : "is not a file name";
    if (problem) throw new InputError({ file, message: `lists the file ${JSON.stringify(artifact.path)}, which ${problem}`, hint: "a report.json names only files beside it: use the folder as `pipeline run` left it" });
  }
  return report;
}

/**
 * One row per GGUF file: type, size, bits per weight, and the measured quality where there is one (perplexity, KL
 * divergence and top-1 agreement for a text-generation model; cosine similarity to the reference for an embedding model).
 */
export function formatReport(report: RunReport): string[] {
  const files = report.artifacts.filter((a) => a.path.endsWith(".gguf") && a.stage !== "imatrix");
  const embedding = files.some((a) => a.quality?.kind === "embedding");
  // Memory to run each file at the first context it was measured at (llama.cpp's own projection where there is one).
  const memoryOf = (path: string) => report.validation?.files[path]?.memory?.[0];
  const memoryCtx = files.map((a) => memoryOf(a.path)?.ctx).find((c) => c !== undefined);
  const memoryHeader = memoryCtx ? [`RAM @${memoryCtx >= 1024 ? `${memoryCtx / 1024}k` : memoryCtx}`] : [];
  const header = embedding ? ["file", "type", "size", "bpw", ...memoryHeader, "cos mean", "cos min", "imatrix"] : ["file", "type", "size", "bpw", ...memoryHeader, "PPL", "KLD mean", "KLD p99", "top-1", "imatrix"];
  const rows = files.map((a) => {
    const q = a.quality;
    const measured = !q ? (embedding ? ["", ""] : ["", "", "", ""]) : q.kind === "embedding" ? [fixed(q.cosineMean, 6), fixed(q.cosineMin, 6)] : [fixed(q.ppl, 4), `${fixed(q.kldMean, 6)}${q.kldSe ? ` ± ${fixed(q.kldSe, 6)}` : ""}`, fixed(q.kldP99, 6), `${fixed(q.top1, 2)}%`];
    const memory = memoryOf(a.path);
    const ram = memoryCtx ? [memory && memory.ctx === memoryCtx ? formatBytes(memory.projectedBytes ?? memory.estimatedBytes) : ""] : [];
    return [a.path, a.ggufType ?? "", formatBytes(a.bytes), fixed(a.quant?.bitsPerWeight, 2), ...ram, ...measured, a.quant?.imatrix ?? ""];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const evaluated = report.artifacts.find((a) => a.quality)?.quality;
  const reference = report.artifacts.find((a) => a.quality && a.stage !== "quantize")?.path ?? "the reference";
  const how = evaluated?.kind === "embedding" ? `llama-embedding on ${evaluated.passages} passages of ${evaluated.text}` : `llama-perplexity on ${evaluated?.chunks ? `${evaluated.chunks} chunks of ` : ""}${evaluated?.text ?? ""}${report.artifacts.some((a) => a.quality?.kind === "perplexity" && a.quality.kldSe) ? " (KLD ± its standard error)" : ""}`;
  return [
    line(header),
    ...rows.map(line),
    ...(evaluated ? ["", `quality: ${how} at ctx ${evaluated.ctx}, against ${reference}`, ...tradeoff(files)] : []),
    ...files.filter((a) => a.stage === "mmproj").map((a) => `projector: ${a.path}, shown an image with each smoke-tested model (llama-mtmd-cli); its RAM is in the models' figures, and the quality figures are the text model's alone (evaluate is text-only)`),
    `llama.cpp ${report.tools.llamaCppCommit.slice(0, 12)} · recipe sha256 ${report.recipe.sha256.slice(0, 12)} · ${report.finishedAt}`,
  ];
}

/**
 * The size/quality trade-off in the terminal (the SVG beside the files draws it): each quant by bits per weight, a bar
 * for its distance from the reference (KL divergence, or 1 − cosine) on a log scale, longer is further.
 */
function tradeoff(files: RunReport["artifacts"]): string[] {
  const points = files
    .filter((a) => a.quant && a.quality)
    .map((a) => ({ type: a.quant?.type ?? "", bpw: a.quant?.bitsPerWeight ?? 0, distance: a.quality?.kind === "embedding" ? 1 - a.quality.cosineMean : (a.quality?.kldMean ?? 0) }))
    .filter((p) => p.distance > 0)
    .sort((a, b) => b.bpw - a.bpw);
  if (points.length < 2) return [];
  const logs = points.map((p) => Math.log10(p.distance));
  const low = Math.min(...logs);
  const span = Math.max(...logs) - low || 1;
  const width = Math.max(...points.map((p) => p.type.length));
  const what = files.some((a) => a.quality?.kind === "embedding") ? "1 − cosine" : "KLD";
  return ["", `trade-off (bits per weight, ${what} on a log scale):`, ...points.map((p, i) => `  ${p.type.padEnd(width)}  ${p.bpw.toFixed(2).padStart(5)} bpw  ${"█".repeat(1 + Math.round((((logs[i] ?? low) - low) / span) * 23)).padEnd(24)}  ${p.distance.toPrecision(3)}`), ""];
}

function fixed(value: number | undefined | null, digits: number): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "";
}
