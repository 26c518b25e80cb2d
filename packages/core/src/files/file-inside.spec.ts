import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileInside, hubCacheBlobs, relativePathProblem } from "./file-inside.js";

describe("relativePathProblem", () => {
  it("should refuse paths that leave their folder, and take plain ones", () => {
    expect(relativePathProblem("Tiny-Q4_K_M.gguf")).toBeUndefined();
    expect(relativePathProblem("sub/file.txt")).toBeUndefined();
    expect(relativePathProblem("../../parts/p1/evil.sh")).toBe("reaches out of its folder (..)");
    expect(relativePathProblem("/etc/passwd")).toBe("is an absolute path");
    expect(relativePathProblem(".pipeline/state.json")).toBe("is a hidden path");
    expect(relativePathProblem("a//b")).toBe("is not a plain relative path");
    expect(relativePathProblem("")).toBe("is not a file name");
  });
});

describe("fileInside", () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  it("should take a file or a link inside the folder, and refuse a link that leads out of it", async () => {
    const root = await mkdtemp(join(tmpdir(), "inside-"));
    dirs.push(root);
    const dir = join(root, "out");
    await mkdir(dir);
    await writeFile(join(dir, "a.gguf"), "x");
    await writeFile(join(root, "secret"), "key");
    await symlink(join(dir, "a.gguf"), join(dir, "b.gguf"));
    await symlink(join(root, "secret"), join(dir, "c.gguf"));
    const hint = "fix it";
    expect(await fileInside({ dir, path: "a.gguf", hint })).toBe(join(dir, "a.gguf"));
    expect(await fileInside({ dir, path: "b.gguf", hint })).toBe(join(dir, "b.gguf"));
    await expect(fileInside({ dir, path: "c.gguf", hint })).rejects.toThrow(`is a link to ${join(root, "secret")}, outside ${dir}`);
    await expect(fileInside({ dir, path: "../secret", hint })).rejects.toThrow("../secret reaches out of its folder (..)");
    expect(await fileInside({ dir, path: "c.gguf", alsoWithin: root, hint })).toBe(join(dir, "c.gguf"));
  });

  it("should know a Hub cache snapshot's blobs", () => {
    expect(hubCacheBlobs("/c/hub/models--o--n/snapshots/abc")).toBe("/c/hub/models--o--n/blobs");
    expect(hubCacheBlobs("/work/model")).toBeUndefined();
  });
});
