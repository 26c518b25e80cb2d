import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunReport } from "./report-types.js";

export interface WriteReportParams {
  outDir: string;
  report: RunReport;
}

export interface WriteReportOutput {
  path: string;
}

/** Writes report.json into the output folder, atomically. */
export async function writeReport(params: WriteReportParams): Promise<WriteReportOutput> {
  await mkdir(params.outDir, { recursive: true });
  const path = join(params.outDir, "report.json");
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(params.report, null, 2)}\n`);
  await rename(tmp, path);
  return { path };
}
