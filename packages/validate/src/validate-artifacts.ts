import { existsSync } from "node:fs";
import { join } from "node:path";
import { readGguf, sha256, stableKey, type Artifact, type FileValidation, type MemoryAtContext, type StageEvent, type ValidationSection } from "@gguf-pipeline/core";
import { listLlamaArchitectures, type Toolchain } from "@gguf-pipeline/native";
import { checkGguf } from "./check-gguf.js";
import { loadCheck } from "./load-check.js";
import { memoryOf } from "./memory-of.js";
import { embeddingTest } from "./embedding-test.js";
import { smokeTest } from "./smoke-test.js";
import { imageSmokeTest } from "./image-smoke-test.js";
import { sourceTokens, tokenizerParity, type SourceTokens } from "./tokenizer-parity.js";
import { validationMemo, type ValidationMemoEntry } from "./validation-memo.js";

export interface ValidateArtifactsParams {
  outDir: string;
  /** The run's artifacts (a path may repeat); every GGUF among them is checked, a shard set as one model. */
  artifacts: Artifact[];
  /** The intermediate: every model must have its tensors (names and shapes). */
  reference: Artifact;
  /** Model files that are not smoke-tested, by path (the base a merged model was made from). */
  notSmoked?: string[];
  /** What the models must carry: the source's chat template (text-generation models only) and the license verdict. */
  expect: { chatTemplate: boolean; license?: { id: string; link?: string } };
  /** Which models are loaded and run: all, the reference and the smallest quant, or none. */
  smoke: { which: "all" | "smallest" | "none"; prompt: string; tokens: number };
  /**
   * A vision-language model's projector (among the artifacts): checked against the reference's embedding length, and
   * every smoke-tested text model is also shown an image through it with llama-mtmd-cli.
   */
  projector?: Artifact;
  /** Checks (by name) whose failure is accepted. */
  allow?: string[];
  /** The source model's folder and files: its own tokenizer is what the GGUFs' must tokenize like (text models). */
  source?: { dir: string; files: string[]; memoDir?: string };
  toolchain: Toolchain;
  /** Ignore remembered results. */
  force?: boolean;
  signal?: AbortSignal;
}

export interface ValidateArtifactsOutput {
  validation: ValidationSection;
  /** Failed checks not allowed, as `path: check: fact`. */
  failed: string[];
  /** Every result came from the memo (nothing was read or run). */
  cached: boolean;
}

const stage = "validate";
const modelStages = new Set(["convert", "merge", "quantize"]);
// Part of every memo key: bump it whenever a check changes what it looks at or says.
const checksVersion = 13;
// What a vision model is asked about the smoke test's image.
const imagePrompt = "Describe this image.";
// Sentences an embedding model's smoke test embeds, after the recipe's prompt.
const embedSentences = ["The river runs down to the sea.", "Numbers help us count the days.", "A good tool is worth keeping."];

/**
 * The validate stage: the structural checks on every GGUF of a run (models also against the reference's tensors, the
 * chat template and the license), and the smoke test on the chosen models: generation through the chat template for a
 * text-generation model, llama-embedding for an embedding model (a quant's vectors compared with the reference's).
 * Results are remembered under each file's content and everything the checks depend on, so an unchanged re-run reads
 * no model and runs no tool.
 */
export async function* validateArtifacts(params: ValidateArtifactsParams): AsyncGenerator<StageEvent, ValidateArtifactsOutput> {
  const started = Date.now();
  yield { type: "start", stage, title: "Validate every GGUF" };
  const { reference } = params;
  const sig = params.signal ? { signal: params.signal } : {};
  const planned = await planValidation(params);
  const memo = validationMemo({ outDir: params.outDir });
  let shapes: Record<string, number[]> | undefined;
  let referenceVectors: number[][] | undefined;
  // The source tokenizer's answers, asked once (and only if a text model needs them).
  let expected: Promise<SourceTokens> | undefined;
  const expectedTokens = () => (expected ??= sourceTokensOf(params));
  let cachedAll = true;
  let imageComputeBytes = 0;
  const files: Record<string, FileValidation> = {};
  const used: string[] = [];
  for (const { artifact, isModel, smoked, key } of planned.files) {
    used.push(key);
    let entry = params.force ? undefined : await memo.read(key);
    const remembered = Boolean(entry);
    if (!entry) {
      cachedAll = false;
      if (isModel && !shapes) shapes = await referenceShapes(join(params.outDir, reference.path));
      entry = await checkOne({ params, artifact, isModel, smoked, architectures: planned.architectures, shapes, referenceVectors, expectedTokens, sig });
      await memo.write(key, entry);
    }
    if (artifact.path === reference.path) referenceVectors = entry.vectors;
    imageComputeBytes ||= entry.imageComputeBytes ?? 0;
    const ok = entry.checks.every((c) => c.ok);
    files[artifact.path] = { ok, checks: entry.checks, ...(entry.kind ? { kind: entry.kind } : {}), ...(entry.memory ? { memory: entry.memory } : {}) };
    const failed = entry.checks.filter((c) => !c.ok);
    if (failed.length > 0) yield { type: "log", stage, level: "warn", message: `${artifact.path}: ${failed.map((x) => `${x.name}: ${x.fact}`).join("; ")}` };
    else yield { type: "progress", stage, message: `${artifact.path}: ${entry.checks.length} checks pass${remembered ? " (unchanged since they last passed)" : ""}` };
  }
  await memo.keepOnly(used);
  // A vision model's memory also counts its projector and its image encoder's compute buffer (measured with the reference).
  if (params.projector) for (const f of Object.values(files)) if (f.kind === "text-generation") f.memory = withProjector(f.memory, params.projector.bytes, imageComputeBytes);
  // The source's chat renderings go into the report for the Ollama publish (remembered in the cache: no Python again).
  const textModel = Object.values(files).some((f) => f.kind === "text-generation");
  const chat = params.source && textModel ? await expectedTokens().then((e) => e.chat, () => undefined) : undefined;
  const allow = params.allow ?? [];
  const failed = Object.entries(files).flatMap(([path, f]) => f.checks.filter((x) => !x.ok && !allow.includes(x.name)).map((x) => `${path}: ${x.name}: ${x.fact}`));
  const seconds = (Date.now() - started) / 1000;
  const title = `Validate: ${Object.keys(files).length} file(s), ${failed.length ? `${failed.length} FAILED check(s)` : "all checks pass"}${cachedAll ? " — cached" : ""}`;
  yield { type: "done", stage, title, seconds, cached: cachedAll };
  return { validation: { allowed: allow, files, ...(chat ? { chat } : {}) }, failed, cached: cachedAll };
}

export interface ValidationPlan {
  /** Every GGUF to check (a shard set by its first shard), the reference first, with its memo key. */
  files: { artifact: Artifact; isModel: boolean; smoked: boolean; key: string }[];
  architectures: string[] | undefined;
}

/** What validation will look at, and the key each file's result is remembered under (the run and `plan` share it). */
export async function planValidation(params: Omit<ValidateArtifactsParams, "signal" | "force" | "allow" | "toolchain"> & { toolchain: Pick<Toolchain, "llamaCppDir" | "commit"> }): Promise<ValidationPlan> {
  const { toolchain, reference } = params;
  const architectures = await listLlamaArchitectures({ llamaCppDir: toolchain.llamaCppDir });
  const unique = [...new Map(params.artifacts.map((a) => [a.path, a])).values()];
  // A shard set is checked as one model, named by its first shard (checkGguf reads them all).
  const models = unique.filter((a) => a.path.endsWith(".gguf") && (!a.quant?.shard || a.quant.shard.index === 1));
  const smokeSet = chooseSmoked(models, reference, params);
  // The reference goes first: a quant's embeddings are compared with its vectors.
  models.sort((a, b) => Number(b.path === reference.path) - Number(a.path === reference.path));
  const common = { checksVersion, architectures: sha256((architectures ?? []).join(",")), commit: toolchain.commit };
  const files = models.map((artifact) => {
    const isModel = modelStages.has(artifact.stage);
    const smoked = smokeSet.has(artifact.path);
    const key = stableKey({
      ...common,
      files: unique.filter((a) => a.path === artifact.path || (artifact.quant?.shard && a.cacheKey === artifact.cacheKey)).map((a) => a.sha256),
      model: isModel ? { reference: reference.sha256, expect: params.expect, projector: params.projector?.sha256 ?? null } : null,
      smoke: smoked ? { prompt: params.smoke.prompt, tokens: params.smoke.tokens, reference: artifact.path === reference.path ? null : reference.sha256, projector: params.projector?.sha256 ?? null } : null,
      projectorOf: artifact.stage === "mmproj" ? reference.sha256 : null,
    });
    return { artifact, isModel, smoked, key };
  });
  return { files, architectures };
}

function sourceTokensOf(params: ValidateArtifactsParams): Promise<SourceTokens> {
  const source = params.source;
  if (!source) throw new Error("sourceTokensOf: no source");
  return sourceTokens({ python: params.toolchain.python, sourceDir: source.dir, files: source.files, workDir: join(params.outDir, ".pipeline", `parity-source-${process.pid}`), ...(source.memoDir ? { memoDir: source.memoDir } : {}), ...(params.signal ? { signal: params.signal } : {}) });
}

/** The models the smoke test loads: all of them, none, or the reference and the smallest quant (a ladder stays cheap). */
function chooseSmoked(models: Artifact[], reference: Artifact, params: Pick<ValidateArtifactsParams, "smoke" | "notSmoked">): Set<string> {
  const candidates = models.filter((a) => modelStages.has(a.stage) && !(params.notSmoked ?? []).includes(a.path));
  if (params.smoke.which === "none") return new Set();
  if (params.smoke.which === "all") return new Set(candidates.map((a) => a.path));
  const smallest = candidates.filter((a) => a.stage === "quantize").sort((a, b) => a.bytes - b.bytes)[0];
  return new Set([reference.path, ...(smallest ? [smallest.path] : [])]);
}

async function referenceShapes(file: string): Promise<Record<string, number[]> | undefined> {
  const header = await readGguf({ file }).catch(() => undefined);
  return header ? Object.fromEntries(header.tensors.map((t) => [t.name, t.shape])) : undefined;
}

interface CheckOneParams {
  params: ValidateArtifactsParams;
  artifact: Artifact;
  isModel: boolean;
  smoked: boolean;
  architectures: string[] | undefined;
  shapes: Record<string, number[]> | undefined;
  referenceVectors: number[][] | undefined;
  expectedTokens: () => Promise<SourceTokens>;
  sig: { signal?: AbortSignal };
}

/** One file's structural checks and, when chosen, its smoke test. */
async function checkOne(c: CheckOneParams): Promise<ValidationMemoEntry> {
  const { params, artifact } = c;
  const file = join(params.outDir, artifact.path);
  const tensors = c.isModel && c.shapes ? { tensorCount: Object.keys(c.shapes).length, tensorShapes: c.shapes } : {};
  const textEmbedding = artifact.stage === "mmproj" ? await embeddingLength(join(params.outDir, params.reference.path)) : undefined;
  const result = await checkGguf({
    file,
    ...(c.architectures ? { architectures: c.architectures } : {}),
    ...(textEmbedding !== undefined ? { textEmbedding } : {}),
    ...(c.isModel ? { expect: { ...tensors, chatTemplate: params.expect.chatTemplate, ...(params.expect.license ? { license: params.expect.license } : {}) } } : {}),
  });
  const entry: ValidationMemoEntry = { checks: result.checks, ...(result.kind ? { kind: result.kind.kind } : {}) };
  // A sound header is not yet a model llama.cpp loads: every model is loaded (without its weights), smoke test or not.
  if (c.isModel && result.ok) entry.checks.push(await loadCheck({ file, fitTool: params.toolchain.tools.fitParams, ...c.sig }));
  if (c.isModel && result.ok) entry.memory = await memoryOf({ file, embeddingModel: result.kind?.kind === "embedding", ...c.sig });
  // A text model's tokenizer must cut text as the source's does (the reference, and every model that is run).
  if (c.isModel && result.ok && params.source && result.kind?.kind === "text-generation" && (c.smoked || artifact.path === params.reference.path)) {
    const expected = await c.expectedTokens();
    entry.checks.push(await tokenizerParity({ file, tokenizeTool: params.toolchain.tools.tokenize, expected, workDir: join(params.outDir, ".pipeline", `parity-${process.pid}`), ...c.sig }));
  }
  if (!c.smoked) return entry;
  if (result.kind?.kind === "embedding") {
    const ran = await embeddingTest({
      file,
      embeddingTool: params.toolchain.tools.embedding,
      sentences: [params.smoke.prompt, ...embedSentences],
      ctx: Math.min(512, result.contextLength ?? 512),
      ...(artifact.path !== params.reference.path && c.referenceVectors ? { reference: c.referenceVectors } : {}),
      ...c.sig,
    });
    entry.checks.push(...ran.checks);
    if (artifact.path === params.reference.path) entry.vectors = ran.vectors;
    return entry;
  }
  const ran = await smokeTest({ file, completionTool: params.toolchain.tools.completion, prompt: params.smoke.prompt, tokens: params.smoke.tokens, ...c.sig });
  entry.checks.push({ name: "smoke test", ok: ran.ok, fact: ran.fact });
  if (params.projector && result.kind?.kind === "text-generation" && !existsSync(params.toolchain.tools.mtmdCli)) {
    // A user's llama.cpp may lack it (the managed build always has it): the check says how to get it.
    entry.checks.push({ name: "image smoke test", ok: false, fact: `${params.toolchain.tools.mtmdCli} is not there: build it (cmake --build build --target llama-mtmd-cli) to show the model an image` });
  } else if (params.projector && result.kind?.kind === "text-generation") {
    const seen = await imageSmokeTest({ file, projector: join(params.outDir, params.projector.path), mtmdTool: params.toolchain.tools.mtmdCli, prompt: imagePrompt, tokens: params.smoke.tokens, ...c.sig });
    entry.checks.push({ name: "image smoke test", ok: seen.ok, fact: `${params.projector.path}: ${seen.fact}` });
    if (seen.computeBytes) entry.imageComputeBytes = seen.computeBytes;
  }
  return entry;
}

/** A vision model's memory: mtmd loads the projector's weights beside the text model, and encodes an image in its own buffer. */
function withProjector(memory: MemoryAtContext[] | undefined, projectorBytes: number, imageComputeBytes: number): MemoryAtContext[] | undefined {
  const add = projectorBytes + imageComputeBytes;
  return memory?.map((m) => ({ ...m, estimatedBytes: m.estimatedBytes + add, ...(m.projectedBytes ? { projectedBytes: m.projectedBytes + add } : {}), projectorBytes, ...(imageComputeBytes ? { imageComputeBytes } : {}) }));
}

/** A model's `<arch>.embedding_length` (what its projector must project to). */
async function embeddingLength(file: string): Promise<number | undefined> {
  const header = await readGguf({ file }).catch(() => undefined);
  const arch = header?.metadata["general.architecture"];
  const value = typeof arch === "string" ? header?.metadata[`${arch}.embedding_length`] : undefined;
  return typeof value === "number" ? value : undefined;
}
