import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeOllamaFolder } from "./write-ollama-folder.js";

describe("writeOllamaFolder", () => {
  it("should write the Modelfile and hard-link the files it names, then leave an identical folder alone", async () => {
    const out = await mkdtemp(join(tmpdir(), "ollama-folder-"));
    await writeFile(join(out, "m.gguf"), "GGUF model bytes");
    const folder = join(out, "ollama", "q8_0");
    const params = { folder, modelfile: "FROM ./m.gguf\n", files: [{ name: "m.gguf", from: join(out, "m.gguf") }] };
    expect(await writeOllamaFolder(params)).toEqual({ copied: 0, unchanged: false });
    expect((await readdir(folder)).sort()).toEqual(["Modelfile", "m.gguf"]);
    expect((await stat(join(folder, "m.gguf"))).ino).toBe((await stat(join(out, "m.gguf"))).ino);
    expect(await readFile(join(folder, "Modelfile"), "utf8")).toBe("FROM ./m.gguf\n");
    expect(await writeOllamaFolder(params)).toEqual({ copied: 0, unchanged: true });
  });

  it("should replace a folder whole: a file the new Modelfile no longer names is gone, no partial folder is left", async () => {
    const out = await mkdtemp(join(tmpdir(), "ollama-folder-"));
    await writeFile(join(out, "m.gguf"), "model");
    await writeFile(join(out, "a.gguf"), "adapter");
    const folder = join(out, "ollama", "q8_0");
    await writeOllamaFolder({ folder, modelfile: "FROM ./m.gguf\nADAPTER ./a.gguf\n", files: [{ name: "m.gguf", from: join(out, "m.gguf") }, { name: "a.gguf", from: join(out, "a.gguf") }] });
    await writeOllamaFolder({ folder, modelfile: "FROM ./m.gguf\n", files: [{ name: "m.gguf", from: join(out, "m.gguf") }] });
    expect((await readdir(folder)).sort()).toEqual(["Modelfile", "m.gguf"]);
    expect(await readdir(join(out, "ollama"))).toEqual(["q8_0"]);
  });

  it("should leave the old folder in place when a file cannot be placed", async () => {
    const out = await mkdtemp(join(tmpdir(), "ollama-folder-"));
    const folder = join(out, "ollama", "q8_0");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "Modelfile"), "old\n");
    await expect(writeOllamaFolder({ folder, modelfile: "new\n", files: [{ name: "gone.gguf", from: join(out, "gone.gguf") }] })).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(folder, "Modelfile"), "utf8")).toBe("old\n");
    expect(await readdir(join(out, "ollama"))).toEqual(["q8_0"]);
  });
});
