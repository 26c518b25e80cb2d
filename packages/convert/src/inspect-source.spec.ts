import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SourceModelError } from "./errors.js";
import { inspectSource } from "./inspect-source.js";
import { pinnedConverterArchitectures } from "./supported-architectures.js";

const tiny = fileURLToPath(new URL("../../../examples/tiny/model", import.meta.url));
const architectures = pinnedConverterArchitectures;

async function copyTiny(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "source-")), "model");
  await cp(tiny, dir, { recursive: true });
  return dir;
}

async function failure(dir: string): Promise<SourceModelError> {
  const error = await inspectSource({ dir, architectures }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SourceModelError);
  return error as SourceModelError;
}

describe("inspectSource", () => {
  it("should describe the tiny model from its headers", async () => {
    const source = await inspectSource({ dir: tiny, architectures });
    expect(source).toMatchObject({ architecture: "LlamaForCausalLM", weightFiles: ["model.safetensors"], tensorCount: 21, parameterCount: 123_200, tensorBytes: 123_200 * 4 });
    expect(source.files).toContain("tokenizer.model");
  });

  it("should refuse a missing folder", async () => {
    expect((await failure("/nonexistent/model")).toLine()).toMatch(/^\/nonexistent\/model: source model folder does not exist — set source\.path/);
  });

  it("should refuse a folder without safetensors", async () => {
    const dir = await copyTiny();
    await rm(join(dir, "model.safetensors"));
    expect((await failure(dir)).message).toBe("no *.safetensors files in the source folder");
  });

  it("should refuse a corrupt safetensors header", async () => {
    const dir = await copyTiny();
    const handle = await open(join(dir, "model.safetensors"), "r+");
    await handle.write(Buffer.from("{garbage"), 0, 8, 8);
    await handle.close();
    const error = await failure(dir);
    expect(error.file).toBe(join(dir, "model.safetensors"));
    expect(error.message).toMatch(/safetensors header is corrupt \(not JSON/);
  });

  it("should refuse an absurd header length", async () => {
    const dir = await copyTiny();
    const handle = await open(join(dir, "model.safetensors"), "r+");
    await handle.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]), 0, 8, 0);
    await handle.close();
    expect((await failure(dir)).message).toMatch(/header is corrupt \(header length/);
  });

  it("should refuse a truncated file", async () => {
    const dir = await copyTiny();
    const file = join(dir, "model.safetensors");
    await truncate(file, (await stat(file)).size - 1000);
    expect((await failure(dir)).message).toMatch(/safetensors file is truncated \(tensor data ends at byte \d+, file has \d+\)/);
  });

  it("should refuse an architecture the converter does not know, with a suggestion when one is close", async () => {
    const dir = await copyTiny();
    const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...config, architectures: ["LlamaForCausalLMM"] }));
    const error = await failure(dir);
    expect(error.message).toBe("architecture LlamaForCausalLMM is not supported by the pinned llama.cpp converter");
    expect(error.hint).toMatch(/did you mean LlamaForCausalLM\?/);
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...config, architectures: ["MyWeirdNet"] }));
    expect((await failure(dir)).hint).toMatch(/GGUF_PIPELINE_LLAMA_CPP/);
  });

  it("should refuse a source without tokenizer files, naming them and how to write them", async () => {
    const dir = await copyTiny();
    await rm(join(dir, "tokenizer.model"));
    const error = await failure(dir);
    expect(error.toLine()).toBe(`${dir}: no tokenizer.json or tokenizer.model in the source folder: the converter needs the model's vocabulary — save the tokenizer beside the weights with tokenizer.save_pretrained(dir), or copy its files from the base model`);
    // A byte-level BPE vocabulary needs its merges.
    await writeFile(join(dir, "vocab.json"), "{}");
    expect((await failure(dir)).toLine()).toMatch(new RegExp(`^${dir}/merges\\.txt: vocab\\.json has no merges\\.txt beside it`));
    await writeFile(join(dir, "merges.txt"), "#version: 0.2\n");
    await expect(inspectSource({ dir, architectures })).resolves.toMatchObject({ architecture: "LlamaForCausalLM" });
  });

  it("should accept any vocabulary the converter reads, and none for an architecture with a built-in one", async () => {
    const dir = await copyTiny();
    await rm(join(dir, "tokenizer.model"));
    for (const name of ["tokenizer.json", "vocab.txt", "spiece.model", "tekken.json", "qwen.tiktoken"]) {
      await writeFile(join(dir, name), "x");
      await expect(inspectSource({ dir, architectures }), name).resolves.toMatchObject({ architecture: "LlamaForCausalLM" });
      await rm(join(dir, name));
    }
    const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...config, architectures: ["MambaForCausalLM"] }));
    await expect(inspectSource({ dir, architectures })).resolves.toMatchObject({ architecture: "MambaForCausalLM" });
  });

  it("should follow symlinks, as in a Hugging Face cache snapshot", async () => {
    const snapshot = join(await mkdtemp(join(tmpdir(), "snapshot-")), "snapshots", "abc");
    await mkdir(snapshot, { recursive: true });
    for (const file of await readdir(tiny)) await symlink(join(tiny, file), join(snapshot, file));
    expect(await inspectSource({ dir: snapshot, architectures })).toMatchObject({ weightFiles: ["model.safetensors"], tensorCount: 21 });
  });

  it("should refuse a header that is JSON but not a tensor table", async () => {
    const dir = await copyTiny();
    const file = join(dir, "model.safetensors");
    const handle = await open(file, "r+");
    const length = Buffer.alloc(8);
    await handle.read(length, 0, 8, 0);
    // Overwrite the header with `null` padded by spaces: same length, valid JSON, not an object.
    await handle.write(Buffer.from("null".padEnd(Number(length.readBigUInt64LE(0)), " ")), 0, Number(length.readBigUInt64LE(0)), 8);
    await handle.close();
    expect((await failure(dir)).message).toMatch(/safetensors header is corrupt \(not JSON: not a JSON object\)/);
  });

  it("should check every shard an index names", async () => {
    const dir = await copyTiny();
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { a: "model.safetensors", b: "model-00002-of-00002.safetensors" } }));
    expect((await failure(dir)).message).toMatch(/shard listed in model\.safetensors\.index\.json is missing \(1 of 2 missing\)/);
  });
});
