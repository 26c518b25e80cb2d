import { formatBytes } from "@gguf-pipeline/core";

/** A transfer rate: "85.2 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}
