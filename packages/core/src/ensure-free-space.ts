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
  const mb = (n: number) => `${Math.ceil(n / 1e6).toLocaleString("en-US")} MB`;
  throw new PipelineError({
    message: `not enough free disk space for ${params.what}: it needs about ${mb(params.bytes)}, ${mb(free)} are free`,
    exitCode: 1,
    file: params.dir,
    hint: "free some space, or point --out at a disk with room",
  });
}
