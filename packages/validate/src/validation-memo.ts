import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stateDirName, type FileValidation } from "@gguf-pipeline/core";

/** What is remembered of one file's validation. */
export interface ValidationMemoEntry {
  checks: FileValidation["checks"];
  kind?: FileValidation["kind"];
  memory?: FileValidation["memory"];
  /** An embedding reference's smoke-test vectors: its quants are compared with them. */
  vectors?: number[][];
  /** A vision model's projector: the compute buffer its image encoder took in the image smoke test (bytes). */
  imageComputeBytes?: number;
}

export interface ValidationMemo {
  read(key: string): Promise<ValidationMemoEntry | undefined>;
  /** Whether a result is remembered under this key (without reading it). */
  has(key: string): Promise<boolean>;
  write(key: string, entry: ValidationMemoEntry): Promise<void>;
  /** Forget every entry but these (results for files that are gone or changed). */
  keepOnly(keys: string[]): Promise<void>;
}

/** Validation results kept in the output folder's bookkeeping (`.pipeline/validation/`), one small file per key. */
export function validationMemo(params: { outDir: string }): ValidationMemo {
  const dir = join(params.outDir, stateDirName, "validation");
  const file = (key: string) => join(dir, `${key.slice(0, 32)}.json`);
  return {
    read: async (key) => {
      const text = await readFile(file(key), "utf8").catch(() => undefined);
      if (!text) return undefined;
      try {
        const stored = JSON.parse(text) as ValidationMemoEntry & { key?: string };
        return stored.key === key && Array.isArray(stored.checks) ? { checks: stored.checks, ...(stored.kind ? { kind: stored.kind } : {}), ...(stored.memory ? { memory: stored.memory } : {}), ...(stored.vectors ? { vectors: stored.vectors } : {}), ...(stored.imageComputeBytes ? { imageComputeBytes: stored.imageComputeBytes } : {}) } : undefined;
      } catch {
        return undefined;
      }
    },
    has: async (key) => (await readFile(file(key), "utf8").catch(() => "")).includes(`"key":"${key}"`),
    write: async (key, entry) => {
      await mkdir(dir, { recursive: true });
      const tmp = `${file(key)}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ key, ...entry }));
      await rename(tmp, file(key));
    },
    keepOnly: async (keys) => {
      const keep = new Set(keys.map((k) => `${k.slice(0, 32)}.json`));
      for (const name of await readdir(dir).catch(() => [] as string[])) if (!keep.has(name)) await rm(join(dir, name), { force: true });
    },
  };
}
