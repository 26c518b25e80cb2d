import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes, refreshLinked, type OllamaPublication, type StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { LocalFileError, PublishError } from "../errors.js";
import type { OllamaConnection } from "./api.js";
import { writeOllamaFolder } from "./write-ollama-folder.js";
import { mergeShards } from "./merge-shards.js";
import { createRequestOf, planOllama, publicationOf, readServerState } from "./plan-ollama.js";
import type { OllamaPlan, OllamaPlannedBlob } from "./plan-ollama.js";
import { createModel, pushModel, uploadBlob } from "./server.js";
import type { OllamaSettings, PublishInput } from "../publish-types.js";

export interface PublishToOllamaParams extends PublishInput {
  settings: OllamaSettings;
  /** The server to create the tags on (ollamaHost); without one only the Modelfile folders are written. */
  host?: string;
  /** Plan only: nothing written, uploaded, created or pushed (the server is still asked what it has). */
  dryRun?: boolean;
  /** llama-gguf-split, to join a split quant into the one file Ollama loads. */
  toolchain?: Toolchain;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

const stage = "publish-ollama";

/**
 * Publishes the run to Ollama (stage "publish-ollama"): a Modelfile folder per tag in `<outDir>/ollama/<tag>/`
 * (always); with a host, the blobs the server lacks (HEAD, then a streamed POST), then /api/create per tag, skipping
 * every tag the server already holds exactly (/api/show); with `push`, /api/push per tag. Returns what it did.
 */
export async function* publishToOllama(params: PublishToOllamaParams): AsyncGenerator<StageEvent, OllamaPublication> {
  const started = Date.now();
  const where = params.host ? ` on ${params.host}` : " (Modelfile folders only: no host)";
  yield { type: "start", stage, title: `${params.dryRun ? "Plan the publish" : "Publish"} to Ollama: ${params.settings.name}${where}` };
  const plan = await planOllama(params);
  yield { type: "progress", stage, message: `${plan.tags.length} tag(s): ${plan.tags.map((t) => t.tag).join(", ")} (latest → ${plan.latest})` };
  for (const warning of new Set([...plan.warnings, ...plan.tags.flatMap((t) => t.content.warnings ?? [])])) yield { type: "log", stage, level: "warn", message: warning };
  const publication = publicationOf(plan);
  if (params.dryRun) {
    yield { type: "done", stage, title: `${plan.name}: ${plan.tags.length} tag(s) planned, nothing written`, seconds: (Date.now() - started) / 1000, cached: false };
    return publication;
  }
  const conn = params.host ? { host: params.host, fetch: params.fetch ?? globalThis.fetch, stage, ...(params.signal ? { signal: params.signal } : {}) } : undefined;
  if (yield* joinSplitQuants(params, plan)) {
    if (conn) await readServerState(plan, conn);
  }
  await checkLocalFiles(plan);
  const rewritten = yield* writeFolders(params.outDir, plan);
  // Linking the run's files moved their ctime, not their bytes: the next run need not hash them again.
  if (rewritten > 0) await refreshLinked({ outDir: params.outDir, paths: params.report.artifacts.map((a) => a.path) });
  let uploadedBytes = 0;
  const sent = new Set<string>();
  if (conn) {
    for (const [i, tag] of plan.tags.entries()) {
      const entry = publication.tags[i];
      if (tag.server === "unchanged" || !entry) continue;
      for (const blob of [tag.model, tag.adapter, tag.projector]) {
        if (!blob || blob.present !== false || sent.has(blob.digest ?? "")) continue;
        yield* uploadBlob(conn, { path: blob.path ?? "", label: blob.name, digest: blob.digest ?? "", bytes: blob.bytes });
        blob.present = true;
        sent.add(blob.digest ?? "");
        publication.uploadedBlobs++;
        uploadedBytes += blob.bytes;
      }
      yield* createModel(conn, createRequestOf(tag));
      entry.created = true;
    }
    if (plan.push) yield* pushTags(conn, plan, publication);
  }
  yield { type: "done", stage, title: summary(plan, publication, uploadedBytes), seconds: (Date.now() - started) / 1000, cached: rewritten === 0 && publication.tags.every((t) => !t.created) };
  return publication;
}

/** Joins each split quant into one file (reused while its shards are the same); true when any digest became known. */
async function* joinSplitQuants(params: PublishToOllamaParams, plan: OllamaPlan): AsyncGenerator<StageEvent, boolean> {
  let joined = false;
  for (const tag of plan.tags) {
    const blob: OllamaPlannedBlob = tag.model;
    if (blob.digest || !blob.shards) continue;
    const merged = yield* mergeShards({ outDir: params.outDir, name: blob.name, shards: blob.shards, stage, ...(params.toolchain ? { toolchain: params.toolchain } : {}), ...(params.signal ? { signal: params.signal } : {}) });
    Object.assign(blob, { path: merged.path, digest: `sha256:${merged.sha256}`, bytes: merged.bytes });
    joined = true;
  }
  return joined;
}

/** One folder per tag (latest shares its target's); folders of tags this publish does not make are removed. */
async function* writeFolders(outDir: string, plan: OllamaPlan): AsyncGenerator<StageEvent, number> {
  const written = new Set<string>();
  let rewritten = 0;
  for (const tag of plan.tags) {
    if (written.has(tag.folder)) continue;
    written.add(tag.folder);
    const files = [tag.model, tag.projector, tag.adapter].filter((b): b is OllamaPlannedBlob => !!b).map((b) => ({ name: b.name, from: b.path ?? "" }));
    const out = await writeOllamaFolder({ folder: join(outDir, tag.folder), modelfile: tag.modelfile, files }).catch((error: unknown) => {
      throw new PublishError({ message: `cannot write ${tag.folder} (${(error as Error).message})`, exitCode: 1, file: tag.folder, hint: "check the output folder's permissions and free space", cause: error });
    });
    if (!out.unchanged) rewritten++;
    const how = out.unchanged ? "unchanged" : out.copied ? "copied: another file system" : "hard links";
    yield { type: "progress", stage, message: `${tag.folder}/Modelfile + ${files.map((f) => f.name).join(" + ")} (${how})` };
  }
  const root = join(outDir, plan.folder);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const folder = `${plan.folder}/${entry.name}`;
    if (!entry.isDirectory() || entry.name.startsWith(".") || written.has(folder)) continue;
    // Only folders this publish writes (they hold a Modelfile) are ours to remove.
    if (!(await stat(join(root, entry.name, "Modelfile")).catch(() => undefined))) continue;
    await rm(join(root, entry.name), { recursive: true, force: true });
    rewritten++;
    yield { type: "log", stage, level: "info", message: `removed ${folder}: not a tag of this publish` };
  }
  return rewritten;
}

/** Every file a Modelfile names is where the report says, at its size (its sha256 is the report's, not re-read). */
async function checkLocalFiles(plan: OllamaPlan): Promise<void> {
  const seen = new Set<string>();
  for (const blob of plan.tags.flatMap((t) => [t.model, t.adapter, t.projector])) {
    if (!blob?.path || seen.has(blob.path)) continue;
    seen.add(blob.path);
    const size = await stat(blob.path).then(
      (s) => s.size,
      (error: unknown) => {
        throw new LocalFileError({ file: blob.from[0] ?? blob.name, message: `cannot read it (${(error as Error).message})`, cause: error });
      },
    );
    if (size !== blob.bytes) throw new LocalFileError({ file: blob.from[0] ?? blob.name, message: `it has ${size} bytes, report.json says ${blob.bytes}` });
  }
}

async function* pushTags(conn: OllamaConnection & { stage: string }, plan: OllamaPlan, publication: OllamaPublication): AsyncGenerator<StageEvent, void> {
  for (const [i, tag] of plan.tags.entries()) {
    yield* pushModel(conn, { model: tag.ref, insecure: plan.insecure });
    const entry = publication.tags[i];
    if (entry) entry.pushed = true;
  }
}

function summary(plan: OllamaPlan, publication: OllamaPublication, uploadedBytes: number): string {
  const count = publication.tags.length;
  if (!plan.host) return `${plan.name}: ${count} tag(s) as Modelfile folders in ${plan.folder}/ (no server: set publish.ollama.host or OLLAMA_HOST to create them)`;
  const created = publication.tags.filter((t) => t.created).length;
  const parts = [created ? `${created} of ${count} tag(s) created` : `${count} tag(s) up to date`];
  parts.push(`${publication.uploadedBlobs} blob(s) uploaded${uploadedBytes ? ` (${formatBytes(uploadedBytes)})` : ""}`);
  if (plan.push) parts.push(`${publication.tags.filter((t) => t.pushed).length} pushed`);
  return `${plan.name} on ${plan.host}: ${parts.join(", ")}`;
}
