import { basename, join } from "node:path";
import { fileInside, type Artifact, type OllamaPublication } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { PublishError } from "../errors.js";
import { formatModelfile, ModelfileValueError } from "./modelfile.js";
import type { OllamaConnection } from "./api.js";
import { findMergedShards } from "./merge-shards.js";
import { modelContent, readSharedContent } from "./model-content.js";
import type { OllamaModelContent } from "./model-content.js";
import { ollamaModelRef } from "./name.js";
import { ollamaProjector } from "./ollama-projector.js";
import { blobPresent, showModel } from "./server.js";
import { checkOllamaSettings } from "./settings.js";
import { sameAsShown } from "./show.js";
import type { OllamaCreateRequest } from "./show.js";
import { ollamaTags } from "./tags.js";
import type { OllamaTagSource } from "./tags.js";
import type { OllamaSettings, PublishInput } from "../publish-types.js";

export interface PlanOllamaParams extends PublishInput {
  settings: OllamaSettings;
  /** The server (ollamaHost); without one only the folders are planned. */
  host?: string;
  /** llama-gguf-split, to join a split quant into the one file Ollama loads. */
  toolchain?: Toolchain;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** A file a model is made of: the GGUF, or the adapter. */
export interface OllamaPlannedBlob {
  /** Its name in the tag's folder and in the create request. */
  name: string;
  /** The run's file(s) it is (a split quant's shards, joined for Ollama), relative to the output folder. */
  from: string[];
  /** Absolute path and `sha256:<hex>`, unknown for a split quant until it is joined. */
  path?: string;
  digest?: string;
  bytes: number;
  /** Whether the server has it (asked only for tags the server lacks or differs on; undefined otherwise). */
  present?: boolean;
  shards?: Artifact[];
}

export interface OllamaPlannedTag {
  /** `name:tag`. */
  ref: string;
  tag: string;
  /** Its Modelfile folder, relative to the output folder (`latest` shares its target's). */
  folder: string;
  /** The run's file it is made from (a split quant's first shard). */
  file: string;
  kind: OllamaTagSource["kind"];
  model: OllamaPlannedBlob;
  adapter?: OllamaPlannedBlob;
  /** A vision model's projector, where Ollama's runner takes it (ollamaProjector). */
  projector?: OllamaPlannedBlob;
  content: OllamaModelContent;
  modelfile: string;
  /** On the server: missing, different, or already exactly this (undefined without a host, or for a split quant not yet joined). */
  server?: "new" | "changed" | "unchanged";
}

export interface OllamaPlan {
  name: string;
  host?: string;
  /** `ollama`: the folder of tag folders, relative to the output folder. */
  folder: string;
  latest: string;
  tags: OllamaPlannedTag[];
  push: boolean;
  insecure: boolean;
  /** Said once before any work: a projector Ollama cannot run, left out of every tag. */
  warnings: string[];
}

const root = "ollama";

/**
 * What a publish to Ollama will do, without writing anything: the tags and their Modelfiles (templates converted and
 * checked here, so a model Ollama cannot be given a correct template stops the publish before any upload), and with a
 * host, each tag's state on the server and which blobs it lacks.
 */
export async function planOllama(params: PlanOllamaParams): Promise<OllamaPlan> {
  const { settings, outDir } = params;
  checkOllamaSettings({ settings });
  const chosen = ollamaTags({ report: params.report, settings });
  // report.json is input: every file a Modelfile folder links must be a real file inside the output folder.
  for (const file of [...chosen.tags.flatMap((t) => t.files), ...(chosen.adapter ? [chosen.adapter] : [])]) {
    await fileInside({ dir: outDir, path: file.path, hint: "only the run's own files are published: run the pipeline again" });
  }
  const shared = await readSharedContent({ settings, recipeDir: params.recipeDir, outDir, report: params.report });
  const adapter = chosen.adapter ? blobOf(outDir, [chosen.adapter]) : undefined;
  const warnings: string[] = [];
  let projector: OllamaPlannedBlob | undefined;
  if (chosen.projector) {
    await fileInside({ dir: outDir, path: chosen.projector.path, hint: "only the run's own files are published: run the pipeline again" });
    const support = await ollamaProjector({ file: join(outDir, chosen.projector.path), label: chosen.projector.path });
    if (support.ok) projector = blobOf(outDir, [chosen.projector]);
    warnings.push(support.why);
  }
  const tags: OllamaPlannedTag[] = [];
  for (const source of chosen.tags) {
    const first = source.files[0];
    if (!first) continue;
    const model = source.files.length > 1 ? await joinedBlob(outDir, source.files) : blobOf(outDir, source.files);
    const content = await modelContent({ file: join(outDir, first.path), label: first.path, kind: source.kind, shared });
    const sees = projector && source.kind === "text-generation" ? projector : undefined;
    const modelfile = modelfileFor(first.path, { from: `./${model.name}`, ...(sees ? { projector: `./${sees.name}` } : {}), ...(adapter ? { adapter: `./${adapter.name}` } : {}), ...content });
    tags.push({ ref: ollamaModelRef(settings.name, source.tag), tag: source.tag, folder: `${root}/${source.tag}`, file: first.path, kind: source.kind, model, ...(adapter ? { adapter } : {}), ...(sees ? { projector: sees } : {}), content, modelfile });
  }
  const target = tags.find((t) => t.tag === chosen.latest);
  if (target) tags.push({ ...target, ref: ollamaModelRef(settings.name, "latest"), tag: "latest" });
  const plan: OllamaPlan = { name: settings.name, ...(params.host ? { host: params.host } : {}), folder: root, latest: chosen.latest, tags, push: settings.push ?? false, insecure: settings.insecure ?? false, warnings };
  if (params.host) await readServerState(plan, { host: params.host, fetch: params.fetch ?? globalThis.fetch, ...(params.signal ? { signal: params.signal } : {}) });
  return plan;
}

/** The body of /api/create for a planned tag (its blobs' digests must be known). */
export function createRequestOf(tag: OllamaPlannedTag): OllamaCreateRequest {
  const { content } = tag;
  const digest = (b: OllamaPlannedBlob) => b.digest ?? "";
  return {
    model: tag.ref,
    files: { [tag.model.name]: digest(tag.model), ...(tag.projector ? { [tag.projector.name]: digest(tag.projector) } : {}) },
    ...(tag.adapter ? { adapters: { [tag.adapter.name]: digest(tag.adapter) } } : {}),
    ...(content.template !== undefined ? { template: content.template } : {}),
    ...(content.system !== undefined ? { system: content.system } : {}),
    ...(Object.keys(content.parameters).length ? { parameters: content.parameters } : {}),
    ...(content.licenses.length ? { license: content.licenses } : {}),
  };
}

/** Each tag's state on the server (/api/show), and for tags to (re)create, which blobs the server lacks. */
export async function readServerState(plan: OllamaPlan, conn: OllamaConnection): Promise<void> {
  const asked = new Map<string, boolean>();
  for (const tag of plan.tags) {
    delete tag.server;
    if (!tag.model.digest) continue;
    const shown = await showModel(conn, tag.ref);
    tag.server = !shown ? "new" : sameAsShown(shown, createRequestOf(tag)) ? "unchanged" : "changed";
    if (tag.server === "unchanged") continue;
    for (const blob of [tag.model, tag.adapter, tag.projector]) {
      if (!blob?.digest) continue;
      const present = asked.get(blob.digest) ?? (await blobPresent(conn, blob.digest));
      asked.set(blob.digest, present);
      blob.present = present;
    }
  }
}

/** What the plan means for the report: every tag, none created or pushed yet. */
export function publicationOf(plan: OllamaPlan): OllamaPublication {
  return { folder: plan.folder, ...(plan.host ? { host: plan.host } : {}), tags: plan.tags.map((t) => ({ tag: t.ref, file: t.file, folder: t.folder, created: false, pushed: false })), uploadedBlobs: 0 };
}

function blobOf(outDir: string, files: Artifact[]): OllamaPlannedBlob {
  const [a] = files;
  if (!a) throw new Error("blobOf: no file");
  return { name: basename(a.path), from: [a.path], path: join(outDir, a.path), digest: `sha256:${a.sha256}`, bytes: a.bytes };
}

/** A split quant: one file joined from its shards, known when an earlier publish joined the same shards. */
async function joinedBlob(outDir: string, shards: Artifact[]): Promise<OllamaPlannedBlob> {
  const name = basename(shards[0]?.path ?? "").replace(/-\d{5}-of-\d{5}\.gguf$/, ".gguf");
  const known = await findMergedShards({ outDir, name, shards });
  const bytes = known?.bytes ?? shards.reduce((n, s) => n + s.bytes, 0);
  return { name, from: shards.map((s) => s.path), bytes, shards, ...(known ? { path: known.path, digest: `sha256:${known.sha256}` } : {}) };
}

function modelfileFor(file: string, spec: Parameters<typeof formatModelfile>[0]): string {
  try {
    return formatModelfile(spec);
  } catch (error) {
    if (!(error instanceof ModelfileValueError)) throw error;
    throw new PublishError({ message: error.message, exitCode: 2, file, hint: error.command === "TEMPLATE" ? "write the template without that character and set publish.ollama.template to its file" : "change that text in the recipe or the license file" });
  }
}
