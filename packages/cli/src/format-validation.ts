import type { RunReport } from "@gguf-pipeline/core";

/**
 * The human end of the validate stage: one row per GGUF file with how many checks passed, the smoke test's output,
 * and every failed check with the fact behind it (marked "allowed" when --allow accepted it); then the license line.
 */
export function formatValidation(report: RunReport): string[] {
  const lines: string[] = [];
  const files = Object.entries(report.validation?.files ?? {});
  if (files.length > 0) {
    const allowed = new Set(report.validation?.allowed ?? []);
    const rows = files.map(([path, f]) => {
      const failed = f.checks.filter((c) => !c.ok);
      const blocking = failed.filter((c) => !allowed.has(c.name));
      const smoke = f.checks.find((c) => c.name === "smoke test");
      const verdict = blocking.length > 0 ? "FAIL" : failed.length > 0 ? "pass (allowed)" : "pass";
      const notes = failed.length > 0 ? failed.map((c) => `${c.name}${allowed.has(c.name) ? " (allowed)" : ""}: ${c.fact}`).join("; ") : smoke ? `smoke: ${smoke.fact}` : "";
      return [path, `${f.checks.length - failed.length}/${f.checks.length}`, verdict, notes];
    });
    const header = ["validation", "checks", "result", ""];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 3 ? 0 : (r[i] ?? "").length))));
    const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
    lines.push(line(header), ...rows.map(line));
  }
  const license = report.license;
  if (license) {
    lines.push(
      `license: ${license.id}${license.name ? ` (${license.name})` : ""} from ${license.from}${license.link ? ` · link ${license.link}` : ""}${license.files.length ? ` · ships ${license.files.join(", ")}` : ""}`,
      ...license.warnings.map((w) => `warning: ${w}`),
    );
  }
  if (report.otherFiles?.length) lines.push(`note: the output folder also holds files this run did not make: ${report.otherFiles.join(", ")}`);
  return lines;
}
