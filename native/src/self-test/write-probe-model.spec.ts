import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readGguf } from "@gguf-pipeline/core";
import { probeText, writeProbeModel } from "./write-probe-model.js";

describe("writeProbeModel", () => {
  it("should write the same small Llama GGUF from the same seed, with a vocabulary that spells its text", async () => {
    const dir = await mkdtemp(join(tmpdir(), "probe-"));
    try {
      const a = await writeProbeModel({ file: join(dir, "a.gguf") });
      await writeProbeModel({ file: join(dir, "b.gguf") });
      await writeProbeModel({ file: join(dir, "c.gguf"), seed: 1 });
      const digest = async (f: string) => createHash("sha256").update(await readFile(join(dir, f))).digest("hex");
      expect(await digest("a.gguf")).toBe(await digest("b.gguf"));
      expect(await digest("a.gguf")).not.toBe(await digest("c.gguf"));
      expect(a.parameters).toBe(1_443_072);
      const header = await readGguf({ file: a.file });
      expect(header.metadata["general.architecture"]).toBe("llama");
      expect(header.metadata["llama.embedding_length"]).toBe(256);
      expect(header.tensors).toHaveLength(21);
      // Every matrix is 256 wide (QK_K) and a multiple of 32 tall: K-quants, IQ types and AMX kernels all apply.
      for (const t of header.tensors.filter((x) => x.shape.length === 2)) {
        expect((t.shape[0] ?? 0) % 256, t.name).toBe(0);
        expect((t.shape[1] ?? 0) % 32, t.name).toBe(0);
      }
      expect(probeText().split(/\s+/).length).toBeGreaterThan(600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
