import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stageHubFolder } from "./stage-hub-folder.js";

describe("stageHubFolder", () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  it("should write the commit as the repo's tree (links to the run's files), and leave an unchanged tree alone", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "stage-hub-"));
    dirs.push(outDir);
    await writeFile(join(outDir, "M-Q8_0.gguf"), "weights");
    const files = [
      { path: "M-Q8_0.gguf", bytes: 7, sha256: "a".repeat(64), source: { kind: "file" as const, file: join(outDir, "M-Q8_0.gguf") } },
      { path: "README.md", bytes: 5, sha256: "b".repeat(64), source: { kind: "memory" as const, content: new TextEncoder().encode("# M\n\n") } },
    ];
    const params = { outDir, folder: "hub", repo: "me/M-GGUF", hubUrl: "https://huggingface.co", branch: "main", files };
    const first = await stageHubFolder(params);
    expect(first).toMatchObject({ folder: "hub/me/M-GGUF", changed: true, files: [{ path: "M-Q8_0.gguf", action: "add" }, { path: "README.md", action: "add" }] });
    const tree = join(outDir, "hub", "me", "M-GGUF");
    expect((await stat(join(tree, "M-Q8_0.gguf"))).ino).toBe((await stat(join(outDir, "M-Q8_0.gguf"))).ino);
    expect(await readFile(join(tree, "README.md"), "utf8")).toBe("# M\n\n");
    const ctime = (await stat(join(outDir, "M-Q8_0.gguf"))).ctimeMs;
    expect((await stageHubFolder(params)).changed).toBe(false);
    expect((await stat(join(outDir, "M-Q8_0.gguf"))).ctimeMs).toBe(ctime);
    const card = { ...files[1], source: { kind: "memory" as const, content: new TextEncoder().encode("# M v2\n") } };
    expect((await stageHubFolder({ ...params, files: [files[0], card] as typeof files })).changed).toBe(true);
    expect(await readFile(join(tree, "README.md"), "utf8")).toBe("# M v2\n");
  });
});
