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
    const a = hashGrowingFile({ file: shrunk, pollMs: 5 });
    await writeFile(shrunk, Buffer.alloc(4096, 1));
    await pause(300);
    await truncate(shrunk, 100);
    await pause(30);
    expect(await a.finish()).toBeUndefined();

    const replaced = join(dir, "replaced.gguf");
    const b = hashGrowingFile({ file: replaced, pollMs: 5 });
    await writeFile(replaced, "first version");
    // Long enough for the worker to start and read the first version.
    await pause(300);
    await writeFile(join(dir, "other"), "first version, then more");
    await rename(join(dir, "other"), replaced);
    expect(await b.finish()).toBeUndefined();
  });

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
    const niceness = async () => {
      const values: number[] = [];
      for (const task of await readdir("/proc/self/task")) {
        const stat = await readFile(`/proc/self/task/${task}/stat`, "utf8").catch(() => "");
        // Fields after the command's closing parenthesis; niceness is field 19 of stat(5).
        const nice = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16];
        if (nice !== undefined) values.push(Number(nice));
      }
      return values;
    };
    const before = await niceness();
    const following = hashGrowingFile({ file: join(await folder(), "model.gguf"), pollMs: 5 });
    await pause(300);
    const during = await niceness();
    await following.stop();
    expect(during.filter((n) => n === 19).length).toBe(before.filter((n) => n === 19).length + 1);
    expect(Math.min(...during)).toBe(Math.min(...before));
  });
});
