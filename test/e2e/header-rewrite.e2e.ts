import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { openAsBlob } from "node:fs";
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { execa } from "execa";
import { buildGgufHeader, gguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { ggufValue, readVocabulary, rewriteGgufMetadata } from "@gguf-pipeline/core";
import { knownTokenizerModels } from "@gguf-pipeline/validate";
import { cli, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";

/**
 * Header rewrites are byte-exact (issue 23, part 1), and `inspect --check` sees what llama.cpp's vocabulary loader
 * refuses (part 2), on the real vocabularies the pinned llama.cpp ships (models/ggml-vocab-*.gguf), Gemma's among them:
 * it has tokens that start with U+FEFF ("\ufeff//" beside "//"), which a decode-then-encode turns into duplicates.
 */

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

describe("header rewrites: byte for byte, whatever the strings hold", () => {
  let work: string;
  let vocabs: string[];
  let gemma: string;

  beforeAll(async () => {
    work = await tempDir("rewrite");
    const models = join((await toolchain()).llamaCppDir, "models");
    vocabs = (await readdir(models)).filter((f) => /^ggml-vocab-.+\.gguf$/.test(f)).map((f) => join(models, f));
    gemma = join(models, "ggml-vocab-gemma-4.gguf");
  });

  it("should give the identical file for a rewrite that changes nothing, on every vocabulary llama.cpp ships", async () => {
    expect(vocabs.length).toBeGreaterThan(10);
    for (const vocab of vocabs) {
      const out = join(work, `noop-${vocab.split("/").pop() ?? ""}`);
      await rewriteGgufMetadata({ input: vocab, output: out, set: {} });
      expect(await sha256(out), vocab).toBe(await sha256(vocab));
    }
  });

  it("should keep Gemma's BOM-led tokens through a stamp, so llama.cpp still loads it; a decode-then-encode breaks it", async () => {
    const tokens = (await readVocabulary({ file: gemma })).tokens;
    const bomLed = tokens.filter((t) => t.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])));
    expect(bomLed.length).toBeGreaterThan(0);
    const stamped = join(work, "gemma-stamped.gguf");
    await rewriteGgufMetadata({ input: gemma, output: stamped, set: { "general.name": ggufValue.string("stamped"), "general.license": ggufValue.string("gemma") } });
    expect((await readVocabulary({ file: stamped })).tokens.map((t) => t.toString("hex"))).toEqual(tokens.map((t) => t.toString("hex")));
    const tc = await toolchain();
    const tokenize = (file: string) => execa(tc.tools.tokenize, ["-m", file, "-p", "// hello", "--ids", "--log-disable"], { reject: false, all: true });
    expect((await tokenize(stamped)).stdout.trim()).toBe((await tokenize(gemma)).stdout.trim());
    expect(await cli(["inspect", "--check", stamped]).then((r) => r.exitCode)).toBe(0);

    // What the issue found: a header written from decoded strings (@huggingface/gguf's buildGgufHeader) loses the BOMs.
    const parsed = await gguf(gemma, { allowLocalFile: true, typedMetadata: true });
    const header = await buildGgufHeader(await openAsBlob(gemma), { ...parsed.typedMetadata, "general.name": { value: "stamped", type: 8 } } as typeof parsed.typedMetadata, { littleEndian: parsed.littleEndian, tensorInfoByteRange: parsed.tensorInfoByteRange, alignment: 32 });
    const decoded = join(work, "gemma-decoded.gguf");
    await writeFile(decoded, new Uint8Array(await header.arrayBuffer()));
    const broken = await tokenize(decoded);
    expect(broken.exitCode).not.toBe(0);
    const check = await cli(["inspect", "--check", decoded]);
    expect(check.exitCode, check.all).toBe(1);
    expect(check.stderr.trim()).toMatch(new RegExp(`^error: ${decoded}: token texts: tokens \\d+ and \\d+ are both "[^"]+": llama\\.cpp refuses a vocabulary whose texts repeat$`));
  });
});

describe("inspect --check: what llama.cpp's vocabulary loader refuses", () => {
  let work: string;
  let good: string;

  beforeAll(async () => {
    work = await tempDir("vocab-check");
    const run = await cli(["run", await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" }, validate: { smoke: "none" } })]);
    expect(run.exitCode, run.all).toBe(0);
    good = join(work, "out", "Tiny-F32.gguf");
  });

  async function checked(name: string, set: Parameters<typeof rewriteGgufMetadata>[0]["set"]): Promise<string> {
    const file = join(work, `${name}.gguf`);
    await rewriteGgufMetadata({ input: good, output: file, set });
    const result = await cli(["inspect", "--check", file]);
    expect(result.exitCode, result.all).toBe(1);
    return result.stderr.trim().replace(`${file}: `, "");
  }

  it("should refuse an unknown tokenizer model, short score and type arrays, and special ids outside the vocabulary", async () => {
    expect(await checked("model", { "tokenizer.ggml.model": ggufValue.string("sentencepiece") })).toBe(
      `error: tokenizer model: tokenizer.ggml.model "sentencepiece" is not one the pinned llama.cpp knows (${knownTokenizerModels.join(", ")}): it cannot load this file`,
    );
    expect(await checked("scores", { "tokenizer.ggml.scores": { type: 9, subType: 6, value: [0, 0, 0] } })).toMatch(/^error: token arrays: tokenizer\.ggml\.scores has 3 items for \d+ tokens$/);
    expect(await checked("pad", { "tokenizer.ggml.padding_token_id": ggufValue.uint32(99999) })).toMatch(/^error: special tokens: tokenizer\.ggml\.padding_token_id is 99999, outside the \d+ tokens$/);
    const copy = join(work, "copy.gguf");
    await copyFile(good, copy);
    expect((await cli(["inspect", "--check", copy])).exitCode).toBe(0);
  });

  it("should know the same tokenizer models as the pinned llama.cpp's loader", async () => {
    const source = await readFile(join((await toolchain()).llamaCppDir, "src", "llama-vocab.cpp"), "utf8");
    const load = source.slice(source.indexOf('tokenizer_model == "no_vocab"'), source.indexOf("unknown tokenizer: '%s'"));
    expect([...new Set([...load.matchAll(/tokenizer_model == "([a-z0-9_]+)"/g)].map((m) => m[1]))].sort()).toEqual([...knownTokenizerModels].sort());
  });
});
