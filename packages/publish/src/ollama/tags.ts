import type { Artifact, RunReport } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { ollamaTagOf } from "./name.js";
import type { OllamaSettings } from "../publish-types.js";

export type OllamaModelKind = "text-generation" | "embedding";

/** One model file of the run that becomes a tag. */
export interface OllamaTagSource {
  /** `q4_k_m`: the part after the colon. */
  tag: string;
  /** The file type as llama.cpp names it (`Q4_K_M`, `F16`). */
  type: string;
  /** The run's file, or a split quant's shards (first shard first). */
  files: Artifact[];
  kind: OllamaModelKind;
  /** The high-precision file the quants were made from. */
  reference: boolean;
}

export interface OllamaTagsOutput {
  tags: OllamaTagSource[];
  /** The tag `latest` points at. */
  latest: string;
  /** The GGUF adapter every tag applies, when the run shipped one unmerged. */
  adapter?: Artifact;
  /** A vision model's projector (mmproj-*.gguf), a second FROM of every chat tag. */
  projector?: Artifact;
}

/**
 * Which of the run's files become tags: the quants and the reference (the merged model when adapters were merged,
 * else the convert output), narrowed by `settings.tags`; `latest` is `settings.latest`, else Q4_K_M when made, else
 * the reference. Unmerged adapters (stage `adapter:<name>`, no merge) ride on every tag; Ollama takes one.
 */
export function ollamaTags(params: { report: RunReport; settings: OllamaSettings }): OllamaTagsOutput {
  const { artifacts } = params.report;
  const merged = artifacts.find((a) => a.stage === "merge");
  const reference = merged ?? artifacts.find((a) => a.stage === "convert");
  const byType = new Map<string, OllamaTagSource>();
  const kindOf = (a: Artifact): OllamaModelKind => params.report.validation?.files[a.path]?.kind ?? "text-generation";
  for (const a of artifacts.filter((x) => x.stage === "quantize")) {
    const type = a.quant?.type ?? a.ggufType;
    if (!type) continue;
    const entry = byType.get(type);
    if (entry) entry.files.push(a);
    else byType.set(type, { tag: ollamaTagOf(type), type, files: [a], kind: kindOf(a), reference: false });
  }
  // The reference's type may also be a rung of the ladder (the F16 rung of an f16 convert): one tag, the same bytes.
  if (reference?.ggufType && !byType.has(reference.ggufType)) byType.set(reference.ggufType, { tag: ollamaTagOf(reference.ggufType), type: reference.ggufType, files: [reference], kind: kindOf(reference), reference: true });
  for (const entry of byType.values()) entry.files.sort((a, b) => (a.quant?.shard?.index ?? 0) - (b.quant?.shard?.index ?? 0));
  // In the report's order: the reference first, then the ladder as the recipe lists it.
  const position = (t: OllamaTagSource) => (t.files[0] ? artifacts.indexOf(t.files[0]) : -1);
  const made = [...byType.values()].sort((a, b) => position(a) - position(b));
  if (made.length === 0) throw new PublishError({ message: "the run made no model file to publish to Ollama", exitCode: 2, hint: "run the recipe first (pipeline run), then publish" });
  const tags = select(made, params.settings.tags);
  const latest = latestOf(tags, params.settings.latest);
  const adapters = merged ? [] : artifacts.filter((a) => a.stage.startsWith("adapter:"));
  if (adapters.length > 1) {
    throw new PublishError({ message: `the run ships ${adapters.length} unmerged adapters and Ollama applies one per model`, exitCode: 2, hint: 'set "merge": true to publish the merged model, or publish one adapter per recipe' });
  }
  const adapter = adapters[0];
  const projector = artifacts.find((a) => a.stage === "mmproj");
  return { tags, latest, ...(adapter ? { adapter } : {}), ...(projector ? { projector } : {}) };
}

function select(made: OllamaTagSource[], wanted: string[] | undefined): OllamaTagSource[] {
  if (!wanted) return made;
  const types = made.map((t) => t.type);
  return wanted.map((w) => {
    const found = made.find((t) => t.type.toUpperCase() === w.toUpperCase());
    if (!found) throw new PublishError({ message: `publish.ollama.tags names ${w}, which this run did not make`, exitCode: 2, hint: `the run made ${types.join(", ")}` });
    return found;
  });
}

function latestOf(tags: OllamaTagSource[], wanted: string | undefined): string {
  if (wanted) {
    const found = tags.find((t) => t.type.toUpperCase() === wanted.toUpperCase());
    if (!found) throw new PublishError({ message: `publish.ollama.latest is ${wanted}, which is not among the tags`, exitCode: 2, hint: `choose one of ${tags.map((t) => t.type).join(", ")}` });
    return found.tag;
  }
  const chosen = tags.find((t) => t.type === "Q4_K_M") ?? tags.find((t) => t.reference) ?? tags[0];
  return chosen?.tag ?? "";
}
