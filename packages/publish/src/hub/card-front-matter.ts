import type { Artifact, RunReport } from "@gguf-pipeline/core";
import type { SourceCard } from "../publish-types.js";

export type ModelKind = "text-generation" | "embedding";

export interface CardFrontMatterParams {
  /** The quantized model's repo, or the repo of its unmerged adapters. */
  repoKind: "model" | "adapter";
  report: RunReport;
  /** The files this repo holds. */
  artifacts: Artifact[];
  /** The Hub id of the model the files are made from. */
  baseModel?: string;
  sourceCard?: SourceCard;
  modelKind: ModelKind;
  /** The user publishing (the token's owner). */
  quantizedBy?: string;
}

const embeddingTags = new Set(["feature-extraction", "sentence-similarity"]);

/**
 * The card's YAML front matter, keys in a fixed order: what the Hub reads to link the base model, show the license,
 * file the repo under GGUF and its task, and credit the quantizer. Tags, languages and datasets carry over from the
 * source's card; the license is the run's (its policy decided it), falling back to the source card's.
 */
export function cardFrontMatter(params: CardFrontMatterParams): Record<string, unknown> {
  const { report, sourceCard = {} } = params;
  const merged = report.artifacts.some((a) => a.stage === "merge");
  const relation = params.repoKind === "adapter" ? "adapter" : merged ? "finetune" : "quantized";
  const license = report.license;
  const sourceTags = asStrings(sourceCard.tags).filter((t) => !/^(base_model|license|region|arxiv|doi):/.test(t));
  const imatrix = params.artifacts.some((a) => a.quant?.imatrix);
  const tags = unique(["gguf", "llama.cpp", ...(imatrix ? ["imatrix"] : []), ...(params.repoKind === "adapter" ? ["lora"] : []), ...(params.artifacts.some((a) => a.stage === "mmproj") ? ["multimodal"] : []), ...sourceTags]);
  const sourcePipeline = typeof sourceCard.pipeline_tag === "string" ? sourceCard.pipeline_tag : undefined;
  // A repo with a vision projector beside its model files is a vision-language model's (llama.cpp -hf fetches both).
  const vision = params.artifacts.some((a) => a.stage === "mmproj");
  const pipelineTag = params.modelKind === "embedding" ? (sourcePipeline && embeddingTags.has(sourcePipeline) ? sourcePipeline : "feature-extraction") : vision ? "image-text-to-text" : "text-generation";
  const front: Record<string, unknown> = {};
  if (params.baseModel) {
    front.base_model = params.baseModel;
    front.base_model_relation = relation;
  }
  const licenseId = license?.id ?? (typeof sourceCard.license === "string" ? sourceCard.license : undefined);
  if (licenseId) front.license = licenseId;
  if (license?.name) front.license_name = license.name;
  if (license?.link) front.license_link = license.link;
  if (isPresent(sourceCard.language)) front.language = sourceCard.language;
  if (isPresent(sourceCard.datasets)) front.datasets = sourceCard.datasets;
  front.tags = tags;
  front.pipeline_tag = pipelineTag;
  front.library_name = "gguf";
  if (params.quantizedBy) front.quantized_by = params.quantizedBy;
  return front;
}

/** text-generation, or embedding when validation found the run's model to be one. */
export function modelKindOf(report: RunReport): ModelKind {
  return Object.values(report.validation?.files ?? {}).some((f) => f.kind === "embedding") ? "embedding" : "text-generation";
}

function asStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function isPresent(value: unknown): boolean {
  return typeof value === "string" ? value.length > 0 : Array.isArray(value) ? value.length > 0 : false;
}
