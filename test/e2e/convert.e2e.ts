import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { execa } from "execa";
import { gguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { convertModel, inspectSource, pinnedConverterArchitectures, pinnedConverterMmprojArchitectures } from "@gguf-pipeline/convert";
import { listConverterArchitectures, readPin } from "@gguf-pipeline/native";
import { cli, cliBin, copyTiny, hfGenerate, jsonEvents, listTree, llamaGenerate, makeTinyModel, readSafetensors, repoRoot, reshardModel, tempDir, tinyModel, toolchain, writeRecipe } from "../helpers.js";

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Metadata and a sha256 of each tensor's data, by name (small test files only: reads the whole file). */
async function tensorDigests(file: string): Promise<{ metadata: Record<string, unknown>; tensors: Record<string, string> }> {
  const parsed = await gguf(file, { allowLocalFile: true });
  const bytes = await readFile(file);
  const infos = [...parsed.tensorInfos].sort((x, y) => Number(x.offset - y.offset));
  const tensors: Record<string, string> = {};
  infos.forEach((info, i) => {
    const start = Number(parsed.tensorDataOffset + info.offset);
    const next = infos[i + 1];
    const end = next ? Number(parsed.tensorDataOffset + next.offset) : bytes.length;
    tensors[info.name] = createHash("sha256").update(bytes.subarray(start, end)).digest("hex");
  });
  const { tensor_count: _t, kv_count: _k, ...metadata } = parsed.metadata as unknown as Record<string, unknown>;
  return { metadata, tensors };
}

describe("convert: the tiny model through `pipeline run`", () => {
  let work: string;
  let recipe: string;
  let outDir: string;
  let gguf32: string;
  let firstRun: Awaited<ReturnType<typeof cli>>;
  let planBefore: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    work = await tempDir("convert");
    outDir = join(work, "out");
    recipe = await writeRecipe(work, { name: "Tiny-Llama", source: { path: tinyModel }, output: { dir: "out" }, convert: { outtype: "f32" } });
    planBefore = await cli(["plan", recipe, "--json"]);
    firstRun = await cli(["run", recipe, "--json"]);
    gguf32 = join(outDir, "Tiny-Llama-F32.gguf");
  });

  it("should write the GGUF and a report that describes it", async () => {
    expect(firstRun.exitCode, firstRun.all).toBe(0);
    const events = jsonEvents(firstRun.stdout);
    expect(events.some((e) => e.stage === "convert" && e.type === "progress")).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "report" });
    const report = JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as Record<string, unknown> & { artifacts: Record<string, unknown>[] };
    expect(report).toMatchObject({
      schemaVersion: 1,
      recipe: { path: recipe, sha256: createHash("sha256").update(await readFile(recipe)).digest("hex") },
      tools: { llamaCppCommit: readPin().source.llamaCppCommit, packages: { torch: expect.any(String), transformers: expect.any(String) } },
      stages: [expect.objectContaining({ stage: "toolchain" }), expect.objectContaining({ stage: "convert", cached: false }), expect.objectContaining({ stage: "license" }), expect.objectContaining({ stage: "validate" })],
      license: { id: "apache-2.0", from: expect.stringMatching(/README\.md \(license\)$/) as unknown, files: [], warnings: [] },
      validation: { allowed: [], files: { "Tiny-Llama-F32.gguf": { ok: true } } },
    });
    expect(report.artifacts).toEqual([
      { path: "Tiny-Llama-F32.gguf", stage: "convert", ggufType: "F32", bytes: (await stat(gguf32)).size, sha256: await sha256File(gguf32), cacheKey: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    // Nothing else in the output folder but our bookkeeping.
    expect((await readdir(outDir)).sort()).toEqual([".pipeline", "Tiny-Llama-F32.gguf", "report.json"]);
  });

  it("should carry the source's config and tokenizer into the GGUF metadata", async () => {
    const config = JSON.parse(await readFile(join(tinyModel, "config.json"), "utf8")) as {
      num_hidden_layers: number; hidden_size: number; intermediate_size: number; num_attention_heads: number;
      num_key_value_heads: number; max_position_embeddings: number; vocab_size: number; bos_token_id: number; eos_token_id: number;
    };
    const template = await readFile(join(tinyModel, "chat_template.jinja"), "utf8");
    const { metadata, tensorInfos } = await gguf(gguf32, { allowLocalFile: true });
    const m = metadata as unknown as Record<string, unknown>;
    expect(m).toMatchObject({
      "general.architecture": "llama",
      "general.name": "Tiny-Llama",
      "general.file_type": 0,
      "llama.block_count": config.num_hidden_layers,
      "llama.embedding_length": config.hidden_size,
      "llama.feed_forward_length": config.intermediate_size,
      "llama.attention.head_count": config.num_attention_heads,
      "llama.attention.head_count_kv": config.num_key_value_heads,
      "llama.context_length": config.max_position_embeddings,
      "llama.vocab_size": config.vocab_size,
      "tokenizer.ggml.model": "llama",
      "tokenizer.ggml.bos_token_id": config.bos_token_id,
      "tokenizer.ggml.eos_token_id": config.eos_token_id,
      "tokenizer.chat_template": template,
    });
    const tokens = m["tokenizer.ggml.tokens"] as string[];
    expect(tokens).toHaveLength(config.vocab_size);
    expect(tokens.slice(0, 3)).toEqual(["<unk>", "<s>", "</s>"]);
    expect(tensorInfos).toHaveLength(2 + 9 * config.num_hidden_layers + 1);
  });

  it("should generate the same greedy tokens as transformers (F32, several prompts, 16+ tokens each)", async () => {
    const prompts = ["The river", "A good tool is", "Numbers help us", "In the afternoon the wind"];
    const reference = await hfGenerate({ modelDir: tinyModel, prompts, tokens: 24 });
    expect(reference).toHaveLength(prompts.length);
    for (const ref of reference) {
      // Each reference continuation is long enough to mean something (it may stop at EOS, as llama.cpp does).
      expect(ref.newIds.length, ref.prompt).toBeGreaterThanOrEqual(16);
      const ours = await llamaGenerate({ gguf: gguf32, prompt: ref.prompt, tokens: 24 });
      expect(ours.promptIds, `prompt tokens of ${ref.prompt}`).toEqual(ref.promptIds);
      expect(ours.text, `continuation of ${ref.prompt}`).toBe(ref.text);
    }
  });

  it("should be a cache hit the second time, and redo the work with --force", async () => {
    const before = await stat(gguf32);
    const again = await cli(["run", recipe, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    const hits = jsonEvents(again.stdout).filter((e) => e.type === "cache-hit");
    expect(hits).toEqual([expect.objectContaining({ stage: "convert", message: "Tiny-Llama-F32.gguf is up to date (cache hit)" })]);
    expect((await stat(gguf32)).mtimeMs).toBe(before.mtimeMs);

    const lines = await cli(["run", recipe]);
    expect(lines.stdout).toMatch(/cached \(inputs, outtype and converter unchanged\)/);

    const forced = await cli(["run", recipe, "--json", "--force"]);
    expect(forced.exitCode, forced.all).toBe(0);
    expect(jsonEvents(forced.stdout).filter((e) => e.type === "cache-hit")).toEqual([]);
    const after = await stat(gguf32);
    expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
    // Same inputs, same converter: the same bytes.
    const report = JSON.parse(await readFile(join(outDir, "report.json"), "utf8")) as { artifacts: { sha256: string }[] };
    expect(report.artifacts[0]?.sha256).toBe(await sha256File(gguf32));
  });

  it("should miss the cache when an input file or the outtype changes", async () => {
    const model = await copyTiny(work);
    const changing = await writeRecipe(join(work, "changing"), { name: "Tiny", source: { path: model }, convert: { outtype: "f32" } });
    const runJson = async () => {
      const result = await cli(["run", changing, "--json"]);
      expect(result.exitCode, result.all).toBe(0);
      return jsonEvents(result.stdout).filter((e) => e.type === "cache-hit").length;
    };
    expect(await runJson()).toBe(0);
    expect(await runJson()).toBe(1);
    // The model card is an input too (the converter reads its license and tags).
    await writeFile(join(model, "README.md"), `${await readFile(join(model, "README.md"), "utf8")}\nOne more line.\n`);
    expect(await runJson()).toBe(0);
    expect(await runJson()).toBe(1);
    await writeRecipe(join(work, "changing"), { name: "Tiny", source: { path: model }, convert: { outtype: "f16" } });
    expect(await runJson()).toBe(0);
    expect((await readdir(join(work, "changing", "out"))).filter((f) => f.endsWith(".gguf")).sort()).toEqual(["Tiny-F16.gguf", "Tiny-F32.gguf"]);
    // The F32 is the earlier recipe's: kept, but named as not this run's.
    expect(JSON.parse(await readFile(join(work, "changing", "out", "report.json"), "utf8"))).toMatchObject({ otherFiles: ["Tiny-F32.gguf"] });
  });

  it("should plan the conversion before the run and see it cached after", async () => {
    expect(planBefore.exitCode, planBefore.all).toBe(0);
    const before = JSON.parse(planBefore.stdout) as { steps: { stage: string; cached: boolean; bytes: number }[]; output: { needBytes: number; freeBytes: number } };
    const convertBefore = before.steps.find((s) => s.stage === "convert");
    expect(convertBefore).toMatchObject({ cached: false });
    // The estimate is within reach of the real size (it adds a margin for header and vocab).
    const real = (await stat(gguf32)).size;
    expect(convertBefore?.bytes).toBeGreaterThanOrEqual(real);
    expect(convertBefore?.bytes).toBeLessThan(real * 3);
    expect(before.output.freeBytes).toBeGreaterThan(0);
    const after = await cli(["plan", recipe, "--json"]);
    // The plan walks the run's own steps: validation too, whose results are remembered per file.
    expect(JSON.parse(after.stdout)).toMatchObject({
      steps: [
        { stage: "toolchain", cached: true },
        { stage: "convert", cached: true, bytes: 0 },
        { stage: "license", what: expect.stringMatching(/^apache-2\.0 \(from .*README\.md \(license\)\)$/) as unknown },
        { stage: "validate", cached: true, what: expect.stringMatching(/\(1 file\(s\)\)$/) as unknown },
      ],
      output: { needBytes: 0 },
    });
    expect(before.steps.find((s) => s.stage === "validate")).toMatchObject({ cached: false });
  });

  it("should inspect the result with metadata, tensor summary and a memory estimate", async () => {
    const inspected = await cli(["inspect", gguf32, "--json", "--ctx", "128"]);
    expect(inspected.exitCode, inspected.all).toBe(0);
    const out = JSON.parse(inspected.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      architecture: "llama",
      fileType: "F32",
      tensorCount: 21,
      parameterCount: 123_200,
      tensorTypes: { F32: { tensors: 21, elements: 123_200 } },
      // 2 layers × 256 cells (llama.cpp rounds the context up to a multiple of 256) × 2 KV heads × (16 + 16) × 2 bytes
      memory: { ctx: 128, kvCacheBytes: 2 * 256 * 2 * 32 * 2 },
      metadata: { "tokenizer.ggml.tokens": { length: 384, head: ["<unk>", "<s>", "</s>", "<0x00>", "<0x01>", "<0x02>", "<0x03>", "<0x04>"] } },
    });
    const text = await cli(["inspect", gguf32]);
    expect(text.stdout).toMatch(/tokenizer\.ggml\.tokens = \[384 items: "<unk>", "<s>", "<\/s>"/);
  });

  it("should report a ready toolchain in doctor, with the pinned commit", async () => {
    const doctor = await cli(["doctor", "--json"]);
    expect(doctor.exitCode, doctor.all).toBe(0);
    const d = JSON.parse(doctor.stdout) as Record<string, unknown>;
    expect(d).toMatchObject({ source: "managed", problems: [], llamaCpp: { commit: readPin().source.llamaCppCommit, ready: true }, python: { ready: true } });
    expect((d.tools as { present: boolean; version?: string }[]).every((t) => t.present && t.version)).toBe(true);
  });
});

describe("convert: interruption", () => {
  it("should stop on SIGINT with a non-zero exit, leave no file under a final name, and finish on the next run", async () => {
    const work = await tempDir("sigint");
    const recipe = await writeRecipe(work, { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f16" } });
    const child = execa("node", [cliBin, "run", recipe, "--json"], { reject: false, cwd: repoRoot, env: { CI: "1" } });
    let sent = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      // The convert stage has started: the converter is launched right after and spends seconds importing torch,
      // so an interrupt 800 ms later lands while it runs.
      if (!sent && /"type":"start","stage":"convert"/.test(chunk.toString())) {
        sent = true;
        setTimeout(() => child.kill("SIGINT"), 800);
      }
    });
    const result = await child;
    expect(sent).toBe(true);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/interrupted/);
    expect(jsonEvents(result.stdout).some((e) => e.type === "artifact")).toBe(false);
    const left = await listTree(join(work, "out"));
    expect(left.filter((f) => f.endsWith(".gguf") || f.includes(".partial-") || f === "report.json")).toEqual([]);

    const again = await cli(["run", recipe, "--json"]);
    expect(again.exitCode, again.all).toBe(0);
    expect((await readdir(join(work, "out"))).sort()).toEqual([".pipeline", "Tiny-F16.gguf", "report.json"]);
  });

  it("should turn a converter crash into exit 1 with its last line, and leave nothing under a final name", async () => {
    const work = await tempDir("crash");
    const model = await copyTiny(work);
    // A sound safetensors header (our checks pass) naming a tensor the converter has no mapping for: it fails mid-way.
    const file = join(model, "model.safetensors");
    const bytes = await readFile(file);
    const at = bytes.indexOf("model.layers.0.mlp.gate_proj.weight");
    expect(at).toBeGreaterThan(0);
    bytes.write("model.layers.0.mlp.gate_prox.weight", at);
    await writeFile(file, bytes);
    const recipe = await writeRecipe(work, { source: { path: "model" }, convert: { outtype: "f32" } });
    const result = await cli(["run", recipe]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toMatch(/^error: .*convert_hf_to_gguf\.py failed \(exit code \d+\): .*gate_prox/m);
    expect((await listTree(join(work, "out"))).filter((f) => f.endsWith(".gguf") || f.includes(".partial-"))).toEqual([]);
  });
});

describe("convert: sources and fixtures", () => {
  // Training is float math whose last bits depend on the CPU's vector path (PyTorch picks AVX-512, AVX2 or plain
  // kernels), so the weights are compared within a tolerance; everything else the generator writes is portable.
  it("should regenerate the embedded tiny model: tokenizer, config and card byte for byte, weights within 1e-2", async () => {
    const out = await makeTinyModel({ out: join(await tempDir("regen"), "model") });
    const files = (await readdir(tinyModel)).sort();
    expect((await readdir(out)).sort()).toEqual(files);
    for (const file of files.filter((f) => f !== "model.safetensors")) expect(await sha256File(join(out, file)), file).toBe(await sha256File(join(tinyModel, file)));
    const ours = await readSafetensors(join(out, "model.safetensors"));
    const committed = await readSafetensors(join(tinyModel, "model.safetensors"));
    expect(Object.keys(ours).sort()).toEqual(Object.keys(committed).sort());
    let worst = 0;
    for (const [name, t] of Object.entries(committed)) {
      const mine = ours[name];
      expect(mine?.shape, name).toEqual(t.shape);
      t.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (mine?.values[i] ?? Number.NaN)))));
    }
    // Measured: 0 under avx2 (the kernels the committed file was made with), 1.6e-3 under ATEN_CPU_CAPABILITY=default.
    expect(worst).toBeLessThan(1e-2);
  });

  it("should convert a sharded source to the same tensors and metadata as the single-file one", async () => {
    const work = await tempDir("sharded");
    // Re-sharding moves bytes only, so the shards hold exactly the embedded model's tensors on any machine.
    const model = await reshardModel({ src: tinyModel, out: join(work, "model"), shards: 2 });
    expect((await readdir(model)).filter((f) => f.endsWith(".safetensors")).length).toBeGreaterThan(1);
    expect(await readdir(model)).toContain("model.safetensors.index.json");
    const single = await writeRecipe(join(work, "single"), { name: "Tiny", source: { path: tinyModel }, convert: { outtype: "f32" } });
    const sharded = await writeRecipe(join(work, "sharded"), { name: "Tiny", source: { path: model }, convert: { outtype: "f32" } });
    for (const recipe of [single, sharded]) {
      const result = await cli(["run", recipe]);
      expect(result.exitCode, result.all).toBe(0);
    }
    // The converter writes tensors in shard order, so the files differ in layout but not in content.
    const a = await tensorDigests(join(work, "single", "out", "Tiny-F32.gguf"));
    const b = await tensorDigests(join(work, "sharded", "out", "Tiny-F32.gguf"));
    expect(b.metadata).toEqual(a.metadata);
    expect(Object.keys(b.tensors)).toHaveLength(21);
    expect(b.tensors).toEqual(a.tensors);
  });

  it("should call whileConverting once, while the converter runs (its start-up is where later steps' libraries load)", async () => {
    const outDir = await tempDir("while-converting");
    const source = await inspectSource({ dir: tinyModel, architectures: pinnedConverterArchitectures });
    // The converter is a child of one of this process's threads (execa may spawn from a test worker's thread).
    const converterRunning = () =>
      readdirSync("/proc/self/task").some((task) =>
        readFileSync(`/proc/self/task/${task}/children`, "utf8")
          .split(" ")
          .filter(Boolean)
          .some((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("convert_hf_to_gguf.py");
            } catch {
              return false;
            }
          }),
      );
    const calls: { running: boolean; eventsBefore: string[] }[] = [];
    const events: string[] = [];
    const run = convertModel({ source, outDir, name: "Warm", outtype: "f32", toolchain: await toolchain(), whileConverting: () => calls.push({ running: converterRunning(), eventsBefore: [...events] }) });
    for (let next = await run.next(); !next.done; next = await run.next()) events.push(next.value.type);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.running).toBe(true);
    // Before the converter's own progress and its output: only the stage's start (and the inputs' hashes) came first.
    expect(calls[0]?.eventsBefore.every((type) => type === "start" || type === "progress")).toBe(true);
    expect(calls[0]?.eventsBefore).not.toContain("artifact");
    expect(events).toContain("artifact");
  });

  it("should keep the table of supported architectures equal to the pinned converter's own list", async () => {
    const listed = await listConverterArchitectures({ toolchain: await toolchain() });
    expect([...listed].sort()).toEqual([...pinnedConverterArchitectures].sort());
    const projectors = await listConverterArchitectures({ toolchain: await toolchain(), kind: "mmproj" });
    expect([...projectors].sort()).toEqual([...pinnedConverterMmprojArchitectures].sort());
  });
});
