import { mkdir, readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stableKey } from "@gguf-pipeline/core";

export interface RememberByIdentityParams<T> {
  /** Where the answers are kept (in the cache, never in the user's tree). */
  dir: string;
  /** What is remembered, for the file's name: `commit`, `architectures`, `self-test`. */
  name: string;
  /** The files the answer depends on: it is computed again when any of them is replaced, changed or appears. */
  files: readonly string[];
  /** More of what the answer depends on (the CPU, for a self-test). */
  extra?: unknown;
  compute: () => Promise<T>;
  /** Whether an answer may be kept (a failed self-test is asked again next time). */
  keep?: (value: T) => boolean;
}

/**
 * An answer about a user's own llama.cpp (its commit, its converter's architectures, its self-test) remembered under
 * its files' identities — real path, device, inode, size and modification time — like the managed build's key: an
 * unchanged tree is never asked again (a torch import and two git calls cost a no-op run ~4.5 s), a rebuilt one is.
 */
export async function rememberByIdentity<T>(params: RememberByIdentityParams<T>): Promise<T> {
  const memo = await identityMemo<T>(params);
  const saved = await memo.recall();
  if (saved !== undefined) return saved.value;
  const value = await params.compute();
  if (!params.keep || params.keep(value)) await memo.remember(value);
  return value;
}

export interface IdentityMemo<T> {
  file: string;
  recall(): Promise<{ value: T } | undefined>;
  remember(value: T): Promise<void>;
}

/** The same memo in two halves, for an answer that is computed by a generator (a self-test yields its progress). */
export async function identityMemo<T>(params: Omit<RememberByIdentityParams<T>, "compute" | "keep">): Promise<IdentityMemo<T>> {
  const identities = await Promise.all(params.files.map(identityOf));
  const file = join(params.dir, `${params.name}-${stableKey({ identities, extra: params.extra ?? null }).slice(0, 16)}.json`);
  return {
    file,
    recall: async () => {
      const saved = await readFile(file, "utf8").then((text) => JSON.parse(text) as { value: T }).catch(() => undefined);
      return saved && "value" in saved ? { value: saved.value } : undefined;
    },
    remember: async (value) => {
      await mkdir(params.dir, { recursive: true });
      const partial = `${file}.${process.pid}.tmp`;
      await writeFile(partial, `${JSON.stringify({ files: params.files, value })}\n`);
      await rename(partial, file);
    },
  };
}

async function identityOf(file: string): Promise<string> {
  try {
    const real = await realpath(file);
    const s = await stat(real, { bigint: true });
    return `${real}:${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return `${file}:absent`;
  }
}
