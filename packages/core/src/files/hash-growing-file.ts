import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { HashFileOutput } from "./hash-file.js";

export interface HashGrowingFileParams {
  /** A file a tool is about to write or is writing front to back, never seeking back; it need not exist yet. */
  file: string;
  /** How long to wait when it has not grown (ms). */
  pollMs?: number;
}

export interface GrowingFileHash {
  /**
   * Call once the writer has exited: hashes what is left and returns the whole file's sha256. Undefined when the file
   * was truncated or replaced while it was followed, or could not be read; the caller then hashes the file whole.
   */
  finish(): Promise<HashFileOutput | undefined>;
  /** Stops following (the tool failed or was canceled); never throws. */
  stop(): Promise<void>;
}

/** What the main thread asks of the follower, in a shared Int32 (the follower sleeps on it with Atomics.wait). */
const ASK = { follow: 0, finish: 1, stop: 2 } as const;
type Ask = typeof ASK;

/**
 * Hashes a file while a tool writes it, so that its sha256 is known moments after the tool exits instead of after
 * one more pass over the file: on a model that pass is ~0.5 s per GB. The follower is a worker thread at the lowest
 * priority (Linux niceness is per thread), so it mostly takes CPU the tool leaves idle — the converter's
 * single-threaded phases and its exit. On 2 cores it still cost the converter ~2–3 % of its time (360m), against
 * ~8 % for hashing after it exits.
 * Only for writers that append, like gguf-py's GGUFWriter (header, metadata, tensor infos, then tensor data, in
 * order); llama.cpp's C++ writers seek back to write their header last, so their files are hashed after they exit.
 */
export function hashGrowingFile(params: HashGrowingFileParams): GrowingFileHash {
  const ask = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`(${follow.toString()})()`, { eval: true, workerData: { file: resolve(params.file), pollMs: params.pollMs ?? 25, ask, codes: ASK } });
  // A forgotten follower must not keep the process alive.
  worker.unref();
  const result = new Promise<HashFileOutput | undefined>((done) => {
    worker.once("message", (message: { sha256: string; bytes: number } | null) => done(message ? { ...message, memoized: false } : undefined));
    worker.once("error", () => done(undefined));
    worker.once("exit", () => done(undefined));
  });
  const tell = (what: number) => {
    Atomics.store(ask, 0, what);
    Atomics.notify(ask, 0);
  };
  return {
    finish: async () => {
      // Now the answer is awaited: keep the process alive for it.
      worker.ref();
      tell(ASK.finish);
      return result;
    },
    stop: async () => {
      tell(ASK.stop);
      await worker.terminate();
    },
  };
}

/**
 * The follower, run as the worker's source (so it uses only built-in modules and what it is given): reads and hashes
 * the file as it grows, sleeping on the shared word between polls, until asked to finish (drain, check, answer) or stop.
 */
function follow(): void {
  const { parentPort, workerData } = process.getBuiltinModule("node:worker_threads");
  const fs = process.getBuiltinModule("node:fs");
  const { file, pollMs, ask, codes } = workerData as { file: string; pollMs: number; ask: Int32Array; codes: Ask };
  const answer = (message: { sha256: string; bytes: number } | null) => parentPort?.postMessage(message);
  // Linux: this thread only. Elsewhere setpriority would renice the whole process (and the tools it starts).
  if (process.platform === "linux") process.getBuiltinModule("node:os").setPriority(0, 19);
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256");
  const buffer = Buffer.allocUnsafe(2 * 2 ** 20);
  let fd: number | undefined;
  let pos = 0;
  const readOn = (from: number) => {
    for (let n = 1; n > 0; pos += n) {
      n = fs.readSync(from, buffer, 0, buffer.length, pos);
      hash.update(buffer.subarray(0, n));
    }
  };
  try {
    for (;;) {
      const asked = Atomics.load(ask, 0);
      if (asked === codes.stop) return;
      try {
        fd ??= fs.openSync(file, "r");
      } catch {
        if (asked === codes.finish) return answer(null);
      }
      if (fd !== undefined) {
        if (fs.fstatSync(fd).size < pos) return answer(null);
        readOn(fd);
        if (asked === codes.finish) {
          // Done: still the same file (not removed and written anew) and exactly as long as what was hashed.
          const [followed, named] = [fs.fstatSync(fd), fs.statSync(file)];
          const same = followed.ino === named.ino && followed.dev === named.dev && named.size === pos;
          return answer(same ? { sha256: hash.digest("hex"), bytes: pos } : null);
        }
      }
      Atomics.wait(ask, 0, codes.follow, pollMs);
    }
  } catch {
    answer(null);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
