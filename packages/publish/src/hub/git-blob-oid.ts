import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { hashHandle } from "@gguf-pipeline/core";

/** git's blob id (`git hash-object`): how the Hub names a file stored outside LFS (its `oid`). */
export function gitBlobOid(content: Uint8Array): string {
  return createHash("sha1").update(`blob ${content.byteLength}\0`).update(content).digest("hex");
}

/** The same for a file on disk, read in chunks by core's hashHandle. */
export async function gitBlobOidOfFile(params: { file: string; bytes: number; signal?: AbortSignal }): Promise<string> {
  const hash = createHash("sha1").update(`blob ${params.bytes}\0`);
  const handle = await open(params.file, "r");
  try {
    await hashHandle({ handle, hash, from: 0, ...(params.signal ? { signal: params.signal } : {}) });
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}
