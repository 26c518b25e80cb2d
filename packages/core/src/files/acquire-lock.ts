import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CanceledError } from "../errors.js";

export interface AcquireLockParams {
  /** The lock is a directory; creating it (by rename) is atomic. */
  path: string;
  signal?: AbortSignal;
  /** Called once when another process holds the lock, so the caller can say it is waiting. */
  onWait?: (holder: string) => void;
  pollMs?: number;
}

export interface Lock {
  release(): Promise<void>;
}

interface Owner {
  host: string;
  pid: number;
  token: string;
}

// A lock folder without an owner file this old is debris from a crash, not a lock being made.
const ownerlessGraceMs = 10_000;

/**
 * A cross-process lock, so two runs (or parallel tests) never build the same cache entry or write the same
 * output folder at once. The lock is a folder with an owner file, made complete elsewhere and renamed into place.
 * A lock whose owner process is gone (same host) is taken over by renaming it away first, so only one waiter wins.
 */
export async function acquireLock(params: AcquireLockParams): Promise<Lock> {
  const owner: Owner = { host: hostname(), pid: process.pid, token: randomUUID() };
  await mkdir(join(params.path, ".."), { recursive: true });
  let told = false;
  for (;;) {
    if (params.signal?.aborted) throw new CanceledError();
    const staging = `${params.path}.new-${owner.token}`;
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, "owner.json"), JSON.stringify(owner));
    try {
      await rename(staging, params.path);
      return { release: () => releaseIfOwned(params.path, owner) };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
    }
    const holder = await readOwner(params.path);
    if (await isStale(params.path, holder)) {
      // Rename the stale lock to a name only we know; whoever wins the rename removes it, the others just retry.
      const graveyard = `${params.path}.stale-${owner.token}`;
      if (await rename(params.path, graveyard).then(() => true, () => false)) await rm(graveyard, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      params.onWait?.(holder ? `pid ${holder.pid} on ${holder.host}` : "another process");
      told = true;
    }
    await sleep(params.pollMs ?? 500, undefined, params.signal ? { signal: params.signal } : {}).catch(() => undefined);
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await readFile(join(path, "owner.json"), "utf8")) as Owner;
  } catch {
    return undefined;
  }
}

async function isStale(path: string, holder: Owner | undefined): Promise<boolean> {
  if (!holder) {
    const info = await stat(path).catch(() => undefined);
    return info ? Date.now() - info.mtimeMs > ownerlessGraceMs : false;
  }
  // Another host's process cannot be checked from here: its lock is respected.
  return holder.host === hostname() && !processAlive(holder.pid);
}

async function releaseIfOwned(path: string, owner: Owner): Promise<void> {
  const holder = await readOwner(path);
  if (holder?.token === owner.token) await rm(path, { recursive: true, force: true });
}

/** Whether a process of this host is still running (a process we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
