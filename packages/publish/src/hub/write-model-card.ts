import { suggest } from "@gguf-pipeline/core";
import { stringify } from "yaml";
import { cardFrontMatter } from "./card-front-matter.js";
import type { CardFrontMatterParams } from "./card-front-matter.js";
import { cardSections } from "./card-sections.js";
import type { CardSectionsParams } from "./card-sections.js";
import { PublishError } from "../errors.js";

export interface WriteModelCardParams extends CardFrontMatterParams, CardSectionsParams {
  /** A user template that replaces the body (its front matter is still ours), with {{placeholders}}. */
  template?: { file: string; text: string };
}

export interface WriteModelCardOutput {
  /** README.md as published. */
  text: string;
  frontMatter: Record<string, unknown>;
}

export const cardPlaceholders = ["repo", "files_table", "usage", "provenance", "license"] as const;

const defaultBody = `# {{title}}

{{intro}}

## Files

{{files_table}}

## Usage

{{usage}}

## Provenance

{{provenance}}

## License

{{license}}
`;

/**
 * The model card (README.md): YAML front matter the Hub reads, then the files with their quality, how to run each one,
 * where they come from and their license. A user template replaces the body; an unknown placeholder in it is an error
 * (exit 2) rather than text published as is. Nothing in it depends on the time, so an unchanged run makes the same card.
 */
export function writeModelCard(params: WriteModelCardParams): WriteModelCardOutput {
  const frontMatter = cardFrontMatter(params);
  const sections = cardSections(params);
  const values: Record<string, string> = { repo: params.repo, ...sections };
  const body = params.template ? fill(params.template.text, values, params.template.file) : fill(defaultBody, { ...values, title: title(params.repo), intro: intro(params) }, "the default card");
  const yaml = stringify(frontMatter, { lineWidth: 0 });
  return { text: `---\n${yaml}---\n\n${body.trim()}\n`, frontMatter };
}

function fill(template: string, values: Record<string, string>, file: string): string {
  return template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value !== undefined) return value;
    const known = Object.keys(values);
    const close = suggest(name, known);
    throw new PublishError({
      message: `unknown placeholder {{${name}}} in the card template`,
      exitCode: 2,
      file,
      hint: close ? `did you mean {{${close}}}? (known: ${known.map((k) => `{{${k}}}`).join(", ")})` : `use ${known.map((k) => `{{${k}}}`).join(", ")}`,
    });
  });
}

function title(repo: string): string {
  return repo.split("/")[1] ?? repo;
}

function intro(params: WriteModelCardParams): string {
  const base = params.baseModel ? `[${params.baseModel}](${params.hubUrl}/${params.baseModel})` : "the source model";
  if (params.repoKind === "adapter") {
    return `LoRA adapters for ${base} in GGUF, to apply with llama.cpp (\`--lora\`) or Ollama (\`ADAPTER\`)${params.modelRepo ? `; the model itself is in [${params.modelRepo}](${params.hubUrl}/${params.modelRepo})` : ""}.`;
  }
  const merged = params.report.artifacts.some((a) => a.stage === "merge");
  return `GGUF files of ${base}${merged ? " with its LoRA adapters merged in" : ""}, for llama.cpp and the apps built on it (Ollama, LM Studio). Made with llama.cpp \`${params.report.tools.llamaCppCommit.slice(0, 12)}\` by gguf-pipeline; every file was measured against the reference and validated before publishing.`;
}
