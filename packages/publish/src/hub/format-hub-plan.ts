import { formatBytes, type HubPublication } from "@gguf-pipeline/core";

/**
 * A publication (a dry run's plan, or what a publish did) as lines to print: per repo, each file's action and size,
 * then the totals and the commit.
 */
export function formatHubPlan(publications: HubPublication[]): string[] {
  const lines: string[] = [];
  for (const p of publications) {
    lines.push(`${p.repo} @ ${p.branch} (${p.endpoint})`);
    const width = Math.max(0, ...p.files.map((f) => f.path.length));
    for (const f of p.files) lines.push(`  ${f.action.padEnd(9)}  ${f.path.padEnd(width)}  ${formatBytes(f.bytes).padStart(7)}`);
    const of = (action: string) => p.files.filter((f) => f.action === action);
    const send = [...of("add"), ...of("update")];
    const sendBytes = send.reduce((n, f) => n + f.bytes, 0);
    if (!p.folder) lines.push(`  ${send.length} to upload (${formatBytes(sendBytes)}), ${of("unchanged").length} unchanged, ${of("delete").length} to delete`);
    if (p.folder) lines.push(`  written to ${p.folder} in the output folder, as the repo would hold them (not sent)`);
    else if (p.pullRequestUrl) lines.push(`  pull request ${p.pullRequestUrl}, ${formatBytes(p.uploadedBytes)} uploaded`);
    else if (p.commit) lines.push(`  commit ${p.commit.oid} ${p.commit.url}, ${formatBytes(p.uploadedBytes)} uploaded`);
    else lines.push(send.length || of("delete").length ? "  not committed (dry run)" : "  up to date: no commit");
  }
  return lines;
}
