import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { cacheRoot } from "./cache-root.js";
import { hashHandle } from "./hash-handle.js";
import { sha256 } from "./sha256.js";

export interface HashFileParams {
  file: string;
  signal?: AbortSignal;
  /** Where the memo lives; the pipeline cache by default. `false` always re-reads the file. */
  memoDir?: string | false;
}

export interface HashFileOutput {
  sha256: string;
  bytes: number;
  /** True when the hash came from the memo (the file's identity was unchanged), not from reading it. */
  memoized: boolean;
}

/**
 * sha256 of a file, streamed. Multi-GB inputs are not re-read on every run: the result is memoized under the
 * file's identity (path, device, inode, size, mtime and ctime in ns); any write changes ctime, even when mtime is restored.
 */
export async function hashFile(params: HashFileParams): Promise<HashFileOutput> {
  const file = resolve(params.file);
  const info = await stat(file, { bigint: true });
  const bytes = Number(info.size);
  const memoDir = params.memoDir === false ? undefined : (params.memoDir ?? join(cacheRoot(), "hashes"));
  const identity = sha256(`${file}\0${info.dev}\0${info.ino}\0${info.size}\0${info.mtimeNs}\0${info.ctimeNs}`);
  const memoFile = memoDir ? join(memoDir, identity.slice(0, 2), identity) : undefined;
  if (memoFile) {
    const known = await readFile(memoFile, "utf8").catch(() => undefined);
    if (known && /^[0-9a-f]{64}$/.test(known)) return { sha256: known, bytes, memoized: true };
  }
  const hash = createHash("sha256");
  const handle = await open(file, "r");
  try {
    await hashHandle({ handle, hash, from: 0, ...(params.signal ? { signal: params.signal } : {}) });
  } finally {
    await handle.close();
  }
  const hex = hash.digest("hex");
  if (memoFile) {
    await mkdir(join(memoFile, ".."), { recursive: true });
    const tmp = `${memoFile}.${process.pid}.tmp`;
    await writeFile(tmp, hex);
    await rename(tmp, memoFile);
  }
  return { sha256: hex, bytes, memoized: false };
}
