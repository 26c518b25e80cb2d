import { mkdtemp, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalFileError } from "../errors.js";
import { FileBlob } from "./file-blob.js";

describe("FileBlob", () => {
  let file: string;
  const bytes = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => i % 251));

  beforeAll(async () => {
    file = join(await mkdtemp(join(tmpdir(), "file-blob-")), "model.gguf");
    await writeFile(file, bytes);
  });

  it("should read the whole file and any slice of it, counting what it reads", async () => {
    let read = 0;
    const blob = new FileBlob({ file, size: bytes.length, label: "model.gguf", onRead: (n) => (read += n) });
    expect(blob.size).toBe(bytes.length);
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true);
    expect(read).toBe(bytes.length);
    const part = blob.slice(1_000_000, 2_500_000);
    expect(part).toBeInstanceOf(FileBlob);
    expect(part.label).toBe("model.gguf");
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1_000_000, 2_500_000))).toBe(true);
    expect(Buffer.from(await part.slice(-10).arrayBuffer()).equals(bytes.subarray(2_499_990, 2_500_000))).toBe(true);
    expect(blob.slice(5, 2).size).toBe(0);
  });

  it("should stream exactly its range (what fetch sends as the body)", async () => {
    const blob = new FileBlob({ file, size: bytes.length, label: "model.gguf" });
    const response = new Response(blob.slice(0, 4096).stream());
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(0, 4096))).toBe(true);
  });

  it("should fail with a LocalFileError, not a short read, when the file is shorter than the report says", async () => {
    const short = join(file, "..", "short.gguf");
    await writeFile(short, bytes);
    await truncate(short, 1000);
    await expect(new FileBlob({ file: short, size: bytes.length, label: "short.gguf" }).arrayBuffer()).rejects.toBeInstanceOf(LocalFileError);
    await expect(new FileBlob({ file: join(file, "..", "gone.gguf"), size: 10, label: "gone.gguf" }).arrayBuffer()).rejects.toThrow(/cannot read gone.gguf/);
  });
});
