import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rememberByIdentity } from "./remember-by-identity.js";

describe("rememberByIdentity", () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  it("should answer from memory while the files are unchanged, and ask again when one changes or appears", async () => {
    const dir = await mkdtemp(join(tmpdir(), "remember-"));
    dirs.push(dir);
    const tool = join(dir, "tool");
    const later = join(dir, "later");
    await writeFile(tool, "v1");
    let asked = 0;
    const ask = () => rememberByIdentity({ dir: join(dir, "memo"), name: "answer", files: [tool, later], compute: async () => ++asked });
    expect(await ask()).toBe(1);
    expect(await ask()).toBe(1);
    await writeFile(tool, "v2");
    await utimes(tool, new Date(), new Date(Date.now() + 5000));
    expect(await ask()).toBe(2);
    await writeFile(later, "new");
    expect(await ask()).toBe(3);
    expect(await ask()).toBe(3);
  });

  it("should not keep an answer `keep` refuses (a failed self-test is asked again)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "remember-"));
    dirs.push(dir);
    let asked = 0;
    const ask = () => rememberByIdentity({ dir, name: "answer", files: [], compute: async () => ++asked, keep: (n) => n > 1 });
    expect(await ask()).toBe(1);
    expect(await ask()).toBe(2);
    expect(await ask()).toBe(2);
  });
});
