import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "./acquire-lock.js";

describe("acquireLock", () => {
  it("should let one holder in at a time, in order", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "lock-")), "build");
    const order: string[] = [];
    const first = await acquireLock({ path });
    let waited = false;
    const second = acquireLock({ path, pollMs: 10, onWait: () => (waited = true) }).then((lock) => {
      order.push("second");
      return lock;
    });
    // Release only once the second has found the lock taken: a fixed delay races a loaded machine.
    for (let i = 0; i < 1000 && !waited; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    order.push("first releases");
    await first.release();
    await (await second).release();
    expect(order).toEqual(["first releases", "second"]);
    expect(waited).toBe(true);
    expect(await readdir(join(path, ".."))).toEqual([]);
  });

  it("should take over a lock whose owner process is gone", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "lock-")), "build");
    await mkdir(path);
    // pid 2^22+1 is above Linux's pid_max: no such process.
    await writeFile(join(path, "owner.json"), JSON.stringify({ host: hostname(), pid: 4_194_305, token: "dead" }));
    const lock = await acquireLock({ path, pollMs: 10 });
    await lock.release();
    expect(await readdir(join(path, ".."))).toEqual([]);
  });
});
