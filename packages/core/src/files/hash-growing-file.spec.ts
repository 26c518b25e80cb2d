import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readdir, readFile, rename, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashGrowingFile } from "./hash-growing-file.js";

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function folder(): Promise<string> {
  return mkdtemp(join(tmpdir(), "growing-"));
}

/** Each of this process's threads (by id) and its niceness, field 19 of stat(5). */
async function niceness(): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for (const task of await readdir("/proc/self/task")) {
    const stat = await readFile(`/proc/self/task/${task}/stat`, "utf8").catch(() => "");
    const nice = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16];
    if (nice !== undefined) values.set(task, Number(nice));
  }
  return values;
}

/**
 * Starts a follower and waits until its thread runs (on Linux it renices itself first, then reads at once): a loaded
 * machine, the whole suite on two cores, can take far longer than any fixed pause to start a worker.
 */
async function startFollowing(params: { file: string; pollMs: number }) {
  const before = await niceness();
  const following = hashGrowingFile(params);
  const started = (now: Map<string, number>) => [...now].filter(([task, nice]) => nice === 19 && !before.has(task));
  let during = await niceness();
  if (process.platform === "linux") {
    for (let waited = 0; started(during).length === 0 && waited < 20_000; waited += 20) {
      await pause(20);
      during = await niceness();
    }
  } else await pause(300);
  return { following, before, during, started: started(during) };
}

/**
 * Writes `content` to a file the follower is already waiting for, and waits until its thread has read it all (its rchar
 * in /proc, counted from before the file existed); off Linux, a pause.
 */
async function writeAndWaitForTheFollower(params: { thread: string | undefined; file: string; content: string | Buffer }): Promise<void> {
  const { thread } = params;
  const rchar = async () => Number(/rchar:\s+(\d+)/.exec(await readFile(`/proc/self/task/${thread}/io`, "utf8").catch(() => ""))?.[1] ?? 0);
  const from = thread ? await rchar() : 0;
  await writeFile(params.file, params.content);
  if (!thread) {
    await pause(300);
    return;
  }
  for (let waited = 0; (await rchar()) < from + params.content.length && waited < 20_000; waited += 10) await pause(10);
}

describe("hashGrowingFile", () => {
  it("should hash a file written in pieces, from before it exists to after its writer is done", async () => {
    const file = join(await folder(), "model.gguf");
    const following = hashGrowingFile({ file, pollMs: 5 });
    const pieces = [Buffer.alloc(3 * 2 ** 20, 1), Buffer.from("tail"), Buffer.alloc(5 * 2 ** 20 + 7, 2)];
    await pause(20);
    for (const piece of pieces) {
      await appendFile(file, piece);
      await pause(20);
    }
    const last = Buffer.from("written as the writer exits");
    await appendFile(file, last);
    const whole = Buffer.concat([...pieces, last]);
    expect(await following.finish()).toEqual({ sha256: sha(whole), bytes: whole.length, memoized: false });
  });

  it("should hash a file written all at once between two polls", async () => {
    const file = join(await folder(), "model.gguf");
    const following = hashGrowingFile({ file, pollMs: 1000 });
    await writeFile(file, "quick");
    expect(await following.finish()).toEqual({ sha256: sha(Buffer.from("quick")), bytes: 5, memoized: false });
  });

  it("should give up (undefined, so the caller hashes the file whole) when the file shrank or was replaced", async () => {
    const dir = await folder();
    const shrunk = join(dir, "shrunk.gguf");
    // Followed from before it exists, so that its reads are known to be of this file.
    const a = await startFollowing({ file: shrunk, pollMs: 5 });
    await writeAndWaitForTheFollower({ thread: a.started[0]?.[0], file: shrunk, content: Buffer.alloc(4096, 1) });
    // It has read the whole 4 KiB; now the file shrinks under it.
    await truncate(shrunk, 100);
    await pause(30);
    expect(await a.following.finish()).toBeUndefined();

    const replaced = join(dir, "replaced.gguf");
    const b = await startFollowing({ file: replaced, pollMs: 5 });
    await writeAndWaitForTheFollower({ thread: b.started[0]?.[0], file: replaced, content: "first version" });
    await writeFile(join(dir, "other"), "first version, then more");
    await rename(join(dir, "other"), replaced);
    expect(await b.following.finish()).toBeUndefined();
  }, 60_000);

  it("should stop quietly when the writer failed and its file is gone", async () => {
    const file = join(await folder(), "model.gguf");
    const following = hashGrowingFile({ file, pollMs: 5 });
    await writeFile(file, "partial");
    await pause(20);
    await rm(file);
    await expect(following.stop()).resolves.toBeUndefined();
    const never = hashGrowingFile({ file: join(await folder(), "never.gguf"), pollMs: 5 });
    expect(await never.finish()).toBeUndefined();
  });

  it.runIf(process.platform === "linux")("should follow at the lowest priority, in a thread of its own", async () => {
    const { following, before, during, started } = await startFollowing({ file: join(await folder(), "model.gguf"), pollMs: 5 });
    await following.stop();
    expect(started).toHaveLength(1);
    // Every thread that was there before keeps its priority: the process and the tools it starts are not reniced.
    for (const [task, nice] of before) if (during.has(task)) expect(during.get(task), `thread ${task}`).toBe(nice);
  }, 30_000);
});
