import { formatBytes } from "@gguf-pipeline/core";
import type { OllamaPlan, OllamaPlannedBlob } from "./plan-ollama.js";

/**
 * A plan as lines to print (`--dry-run`): per tag, its folder, what the server will do and the Modelfile; then every
 * blob with whether it must be uploaded.
 */
export function formatOllamaPlan(plan: OllamaPlan): string[] {
  const lines = [`Ollama ${plan.name}${plan.host ? ` on ${plan.host}` : " (no host: Modelfile folders only)"}; latest → ${plan.latest}${plan.push ? `; push${plan.insecure ? " (insecure)" : ""}` : ""}`];
  for (const warning of plan.warnings) lines.push(`note: ${warning}`);
  for (const tag of plan.tags) {
    const action = !plan.host ? "folder only" : tag.server === "unchanged" ? "up to date" : tag.server === "changed" ? "re-create" : tag.server === "new" ? "create" : "create (after joining its shards)";
    lines.push("", `${tag.ref}  ${action}  ${tag.folder}/Modelfile${tag.content.templateFrom ? `  (template: ${tag.content.templateFrom})` : ""}`);
    if (tag.tag === "latest") continue;
    for (const line of tag.modelfile.trimEnd().split("\n")) lines.push(`  | ${line}`);
  }
  const blobs = new Map<string, OllamaPlannedBlob>();
  for (const tag of plan.tags) for (const blob of [tag.model, tag.projector, tag.adapter]) if (blob) blobs.set(blob.name, blob);
  lines.push("", "blobs:");
  const width = Math.max(0, ...[...blobs.values()].map((b) => b.name.length));
  for (const blob of blobs.values()) {
    const state = !plan.host ? "" : blob.present === false ? "upload" : blob.present === true ? "on the server" : blob.digest ? "not needed" : "upload after joining";
    const from = blob.from.length > 1 ? ` (joined from ${blob.from.length} shards)` : "";
    lines.push(`  ${state ? `${state.padEnd(20)}  ` : ""}${blob.name.padEnd(width)}  ${formatBytes(blob.bytes).padStart(7)}  ${blob.digest ?? "sha256 after joining"}${from}`);
  }
  const upload = [...blobs.values()].filter((b) => b.present === false || (plan.host && !b.digest));
  if (plan.host) lines.push(`  ${upload.length} to upload (${formatBytes(upload.reduce((n, b) => n + b.bytes, 0))})`);
  return lines;
}
