import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** git's blob id (`git hash-object`): how the Hub names a file stored outside LFS (its `oid`). */
export function gitBlobOid(content: Uint8Array): string {
  return createHash("sha1").update(`blob ${content.byteLength}\0`).update(content).digest("hex");
}

/** The same for a file on disk, streamed. */
export async function gitBlobOidOfFile(params: { file: string; bytes: number; signal?: AbortSignal }): Promise<string> {
  const hash = createHash("sha1").update(`blob ${params.bytes}\0`);
  for await (const chunk of createReadStream(params.file, { highWaterMark: 4 * 2 ** 20, ...(params.signal ? { signal: params.signal } : {}) })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
