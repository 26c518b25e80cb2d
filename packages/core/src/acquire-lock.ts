import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CanceledError } from "./errors.js";

export interface AcquireLockParams {
  /** The lock is a directory; creating it is atomic. */
  path: string;
  signal?: AbortSignal;
  /** Called once when another process holds the lock, so the caller can say it is waiting. */
  onWait?: (holderPid: number) => void;
  pollMs?: number;
}

export interface Lock {
  release(): Promise<void>;
}

/**
 * A cross-process lock, so two runs (or parallel tests) never build the same cache entry at once.
 * A lock whose holder process is gone is taken over.
 */
export async function acquireLock(params: AcquireLockParams): Promise<Lock> {
  let told = false;
  for (;;) {
    if (params.signal?.aborted) throw new CanceledError();
    try {
      await mkdir(params.path, { recursive: false });
      await writeFile(join(params.path, "pid"), String(process.pid));
      return { release: () => rm(params.path, { recursive: true, force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        await mkdir(join(params.path, ".."), { recursive: true });
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(await readFile(join(params.path, "pid"), "utf8").catch(() => "0"));
    if (holder && !isAlive(holder)) {
      await rm(params.path, { recursive: true, force: true });
      continue;
    }
    if (!told && holder) {
      params.onWait?.(holder);
      told = true;
    }
    await sleep(params.pollMs ?? 500, undefined, params.signal ? { signal: params.signal } : {}).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
