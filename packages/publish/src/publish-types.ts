import type { Recipe, RunReport } from "@gguf-pipeline/core";

export type HubSettings = NonNullable<NonNullable<Recipe["publish"]>["hf"]>;
export type OllamaSettings = NonNullable<NonNullable<Recipe["publish"]>["ollama"]>;

/** What the source model's card says that a published card carries over (its YAML front matter, as parsed). */
export type SourceCard = Record<string, unknown>;

/** The run being published: its report (artifacts with sha256, license, validation, tools) and where its files are. */
export interface PublishInput {
  outDir: string;
  /** report.json of the finished run (in memory: `pipeline run` publishes before writing it). */
  report: RunReport;
  /** The recipe's folder: relative paths in the settings (cardTemplate, template) resolve here. */
  recipeDir: string;
  /** The model the run was made from: its name, and its Hub id when config.json or the card names one. */
  source: { dir: string; name: string; hubId?: string; card?: SourceCard };
  /** The recipe's Ollama settings: their system, parameters and template also go to a Hub repo's root for `hf.co/` pulls. */
  ollama?: OllamaSettings;
}
