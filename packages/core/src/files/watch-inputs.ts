import { stat } from "node:fs/promises";

export interface InputsSnapshot {
  /** The files whose identities were taken. */
  files: string[];
  /** Which of them changed since (content written, or replaced, even when put back later): none when all held still. */
  changed(): Promise<string[]>;
}

/**
 * The identities (device, inode, size, mtime and ctime in ns) of a tool's inputs, taken when they are hashed for its
 * cache key: checked again once the tool is done, a file written or replaced in between (ctime moves even when mtime is
 * put back) means the tool may have read other bytes than the key says, and its output must not be kept.
 */
export async function watchInputs(files: string[]): Promise<InputsSnapshot> {
  const before = await Promise.all(files.map(identity));
  return {
    files,
    changed: async () => {
      const after = await Promise.all(files.map(identity));
      return files.filter((_, i) => after[i] !== before[i]);
    },
  };
}

async function identity(file: string): Promise<string> {
  const s = await stat(file, { bigint: true }).catch(() => undefined);
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : "absent";
}
