import { stat, statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { PipelineError } from "../errors.js";

/** Free bytes on the file system that holds `path` (or its nearest existing parent: the folder may not exist yet). */
export async function freeSpace(path: string): Promise<number> {
  return (await fileSystemOf(path)).free;
}

async function fileSystemOf(path: string): Promise<{ free: number; device: number }> {
  let dir = path;
  for (;;) {
    try {
      const [info, folder] = await Promise.all([statfs(dir), stat(dir)]);
      return { free: info.bavail * info.bsize, device: folder.dev };
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return { free: 0, device: -1 };
      dir = parent;
    }
  }
}

/** Writes in progress in this process (parallel rungs of a ladder), by file system: what each will still need. */
const holds = new Set<{ device: number; bytes: number; file?: string }>();

export interface EnsureFreeSpaceParams {
  dir: string;
  /** About how many bytes the step will write there. */
  bytes: number;
  /** What will be written, for the message. */
  what: string;
  /**
   * Hold the bytes until `release()`, so that steps writing beside this one at the same time count them as taken. With
   * the file being written, only what it has yet to reach is held. Release once the tool has exited (its file is then
   * in the free space the file system reports).
   */
  hold?: { file?: string };
}

export interface FreeSpaceHold {
  /** Gives the held bytes back; safe to call more than once. */
  release(): void;
}

/**
 * Stops a step before it starts when its output cannot fit: one line instead of a tool dying half-way through a write.
 * What the writes now running in this process (held) still need is not free: two rungs that each fit alone must
 * fit together.
 */
export async function ensureFreeSpace(params: EnsureFreeSpaceParams): Promise<FreeSpaceHold> {
  // How far the held files are, measured before the free space: what they write in between is then counted twice
  // (taken, and still held), never not at all.
  const known = [...holds];
  const written = await Promise.all(known.map(async (h) => (h.file ? await stat(h.file).then((s) => s.size, () => 0) : 0)));
  const { free, device } = await fileSystemOf(params.dir);
  // Synchronous from here: a hold made meanwhile by a parallel step is counted whole.
  const pending = [...holds].filter((h) => h.device === device);
  const held = pending.reduce((sum, h) => sum + Math.max(0, h.bytes - (written[known.indexOf(h)] ?? 0)), 0);
  if (free - held < params.bytes) {
    const [need, have] = formatShortfall(params.bytes, Math.max(0, free - held));
    const beside = held > 0 ? ` after what the ${pending.length === 1 ? "file" : `${pending.length} files`} being written beside it still need${pending.length === 1 ? "s" : ""}` : "";
    throw new PipelineError({
      message: `not enough free disk space for ${params.what}: it needs about ${need}, ${have} free${beside}`,
      exitCode: 1,
      file: params.dir,
      hint: "free some space, or point --out at a disk with room",
    });
  }
  if (!params.hold) return { release: () => undefined };
  const hold = { device, bytes: params.bytes, ...(params.hold.file ? { file: params.hold.file } : {}) };
  holds.add(hold);
  return { release: () => void holds.delete(hold) };
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
