import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { PipelineError } from "./errors.js";

/** Free bytes on the file system that holds `path` (or its nearest existing parent: the folder may not exist yet). */
export async function freeSpace(path: string): Promise<number> {
  let dir = path;
  for (;;) {
    try {
      const info = await statfs(dir);
      return info.bavail * info.bsize;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return 0;
      dir = parent;
    }
  }
}

export interface EnsureFreeSpaceParams {
  dir: string;
  /** About how many bytes the step will write there. */
  bytes: number;
  /** What will be written, for the message. */
  what: string;
}

/** Stops a step before it starts when its output cannot fit: one line instead of a tool dying half-way through a write. */
export async function ensureFreeSpace(params: EnsureFreeSpaceParams): Promise<void> {
  const free = await freeSpace(params.dir);
  if (free >= params.bytes) return;
  const [need, have] = formatShortfall(params.bytes, free);
  throw new PipelineError({
    message: `not enough free disk space for ${params.what}: it needs about ${need}, ${have} free`,
    exitCode: 1,
    file: params.dir,
    hint: "free some space, or point --out at a disk with room",
  });
}

/**
 * The two sizes in one unit, the need rounded up and the free space down, so that the need always reads larger than
 * what is free (rounding both up to whole MB printed "needs about 2 MB, 2 MB are free").
 */
export function formatShortfall(need: number, free: number): [string, string] {
  const largest = Math.max(need, free);
  const [unit, size] = largest >= 1e9 ? ["GB", 1e9] : largest >= 1e6 ? ["MB", 1e6] : ["KB", 1e3];
  const say = (n: number) => `${n.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${unit}`;
  return [say(Math.ceil((need / size) * 10) / 10), say(Math.floor((free / size) * 10) / 10)];
}
