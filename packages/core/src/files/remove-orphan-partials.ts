import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "./acquire-lock.js";
import { stateDirName } from "./output-state.js";
import { partialPattern } from "./temp-path.js";

export interface RemoveOrphanPartialsParams {
  outDir: string;
}

export interface RemoveOrphanPartialsOutput {
  /** What was removed, relative to the output folder, with the process that left it. */
  removed: { path: string; pid: number }[];
}

// In the state folder: bookkeeping written as `<file>.<pid>.tmp` and renamed when complete, and what a run makes for a
// tool to read and removes after it (the converter's source folder of links and its metadata override).
const tempPattern = /\.(\d+)\.tmp$/;

/**
 * Removes the partial files (`.X.partial-<pid>`, and the pieces a tool writes beside one) and the temporary files and
 * folders of the state folder (`….<pid>.tmp`) that a run killed with SIGKILL or by a power cut left behind: only those whose process is gone. Call it while
 * holding the output folder's lock, so no living run's files are touched.
 */
export async function removeOrphanPartials(params: RemoveOrphanPartialsParams): Promise<RemoveOrphanPartialsOutput> {
  const removed: RemoveOrphanPartialsOutput["removed"] = [];
  for (const [dir, pattern] of [[params.outDir, partialPattern], [join(params.outDir, stateDirName), tempPattern]] as const) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const pid = Number(pattern.exec(name)?.[1] ?? Number.NaN);
      if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push({ path: dir === params.outDir ? name : join(stateDirName, name), pid });
    }
  }
  return { removed };
}
