import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { estimateMemory, modelKind, modelShape, readGguf } from "@gguf-pipeline/core";
import { fitParams } from "@gguf-pipeline/validate";
import { cli, makeTinyModel, tempDir, toolchain, writeRecipe } from "../helpers.js";

const types = ["F16", "Q8_0", "Q6_K", "Q4_K_M", "Q2_K", "IQ4_XS"];
const mib = 2 ** 20;

/** What llama.cpp logs it allocates (-v): model (mapped and repacked), KV cache, output and compute buffers, in bytes. */
async function loggedBuffers(file: string, ctx: number, flashAttention: boolean): Promise<number> {
  const tc = await toolchain();
  const run = await execa(tc.tools.completion, ["-m", file, "-c", String(ctx), "-n", "1", "-p", "hi", "-no-cnv", "-fa", flashAttention ? "on" : "off", "--no-warmup", "-v", "-t", "2"], { all: true, stdin: "ignore" });
  const log = run.all ?? "";
  const sizes = (re: RegExp) => [...log.matchAll(re)].map((m) => Number(m[1]) * mib);
  // The last of each: llama.cpp first measures without allocating (the fit), then allocates.
  const model = sizes(/CPU_Mapped model buffer size = +([\d.]+) MiB/g).at(-1) ?? sizes(/CPU model buffer size = +([\d.]+) MiB/g).at(-1) ?? 0;
  const kv = sizes(/KV buffer size = +([\d.]+) MiB/g).at(-1) ?? 0;
  const output = sizes(/output buffer size = +([\d.]+) MiB/g).at(-1) ?? 0;
  const compute = sizes(/compute buffer size = +([\d.]+) MiB/g).at(-1) ?? 0;
  // (A CPU_REPACK buffer holds copies of some mapped weights; the mapped file is what the estimate counts.)
  return model + kv + output + compute;
}

/** The AMX buffer llama.cpp logs (-v) when its AMX kernels take some weights: 0 on a build or CPU without them. */
async function amxBufferBytes(file: string): Promise<number> {
  const tc = await toolchain();
  const run = await execa(tc.tools.completion, ["-m", file, "-c", "512", "-n", "1", "-p", "hi", "-no-cnv", "--no-warmup", "-v", "-t", "2"], { all: true, stdin: "ignore" });
  const sizes = [...(run.all ?? "").matchAll(/AMX model buffer size = +([\d.]+) MiB/g)].map((m) => Number(m[1]) * mib);
  return sizes.at(-1) ?? 0;
}

// A model big enough that its buffers are megabytes (llama-fit-params prints whole MiB): 256 wide, a 32k vocabulary.
describe("memory: our estimate against llama.cpp's own figures", () => {
  let outDir: string;

  beforeAll(async () => {
    const work = await tempDir("memory");
    const model = await makeTinyModel({ out: join(work, "model"), hidden: 256, layers: 4, steps: 1, vocab: 32000 });
    const recipe = await writeRecipe(work, { name: "Mem", source: { path: model }, convert: { outtype: "f16" }, quants: types.filter((t) => t !== "F16"), validate: { smoke: "none" } });
    const run = await cli(["run", recipe]);
    expect(run.exitCode, run.all).toBe(0);
    outDir = join(work, "out");
  });

  it("should be within 5% of the buffers llama.cpp logs, at several contexts, with and without flash attention, for every type", async () => {
    const misses: string[] = [];
    for (const type of types) {
      const file = join(outDir, `Mem-${type}.gguf`);
      const header = await readGguf({ file });
      const shape = modelShape({ metadata: header.metadata, weightsBytes: header.bytes - header.tensorDataOffset, embeddingModel: modelKind({ metadata: header.metadata }).kind === "embedding" });
      expect(shape, type).toBeDefined();
      if (!shape) continue;
      for (const ctx of [512, 2048, 8192]) {
        for (const flashAttention of [true, false]) {
          const logged = await loggedBuffers(file, ctx, flashAttention);
          const estimated = estimateMemory({ shape, ctx, flashAttention }).totalBytes;
          const off = estimated / logged - 1;
          if (Math.abs(off) > 0.05) misses.push(`${type} ctx ${ctx} fa ${flashAttention}: estimate ${(estimated / mib).toFixed(2)} MiB, llama.cpp ${(logged / mib).toFixed(2)} MiB`);
        }
      }
    }
    expect(misses).toEqual([]);
  });

  it("should be within 5% of llama-fit-params' projection (the same code as --fit)", async () => {
    const tc = await toolchain();
    for (const type of types) {
      const file = join(outDir, `Mem-${type}.gguf`);
      // On a build with ggml's AMX kernels, the weights they take live in an AMX buffer, which is neither a host buffer
      // nor one of the model's devices: llama-fit-params (common/fit.cpp) leaves it out of its projection.
      const amx = await amxBufferBytes(file);
      const header = await readGguf({ file });
      const shape = modelShape({ metadata: header.metadata, weightsBytes: header.bytes - header.tensorDataOffset });
      if (!shape) throw new Error(`no shape for ${type}`);
      for (const ctx of [512, 4096]) {
        const fit = await fitParams({ file, fitTool: tc.tools.fitParams, ctx });
        const projected = { totalBytes: fit.totalBytes + amx };
        const estimated = estimateMemory({ shape, ctx }).totalBytes;
        // The projection counts whole MiB per buffer, and leaves out weights the CPU repacks: allow 3 MiB of that.
        expect(Math.abs(estimated - projected.totalBytes) / projected.totalBytes, `${type} ctx ${ctx}: estimate ${(estimated / mib).toFixed(1)}, projected ${projected.totalBytes / mib} MiB`).toBeLessThan(0.05 + (3 * mib) / projected.totalBytes);
      }
    }
  });

  it("should show llama.cpp's projection and the estimate in inspect, and memory in the run's table", async () => {
    const inspected = await cli(["inspect", join(outDir, "Mem-Q4_K_M.gguf"), "--json"]);
    expect(inspected.exitCode, inspected.all).toBe(0);
    const out = JSON.parse(inspected.stdout) as { memoryAt: { ctx: number; projectedBytes?: number; totalBytes: number }[] };
    expect(out.memoryAt.map((m) => m.ctx)).toEqual([256]);
    const table = await cli(["report", outDir]);
    expect(table.stdout).toMatch(/^file\s+type\s+size\s+bpw\s+RAM @256\s+PPL/m);
    expect(table.stdout).toMatch(/^Mem-Q4_K_M\.gguf\s+Q4_K_M\s+\S+ MB\s+[\d.]+\s+\d[\d.]* MB/m);
  });
});
