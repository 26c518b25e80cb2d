import type { Recipe } from "@gguf-pipeline/core";

export type RecipeMetadata = NonNullable<Recipe["metadata"]>;

/**
 * The recipe's metadata as convert_hf_to_gguf.py's --metadata override file (gguf-py Metadata.load_metadata_override):
 * general.* keys, base models and datasets as lists of entries. The license (general.license, .name, .link) goes in
 * through the model card the converter reads instead (shadow-source.ts): the override cannot set general.license.
 */
export function metadataOverride(metadata: RecipeMetadata): Record<string, unknown> {
  const ref = (r: NonNullable<RecipeMetadata["baseModels"]>[number]) => ({
    name: r.name,
    ...(r.organization ? { organization: r.organization } : {}),
    ...(r.version ? { version: r.version } : {}),
    ...(r.url ? { url: r.url } : {}),
    ...(r.repoUrl ? { repo_url: r.repoUrl } : {}),
  });
  const out: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set("general.version", metadata.version);
  set("general.author", metadata.author);
  set("general.organization", metadata.organization);
  set("general.description", metadata.description);
  set("general.url", metadata.url);
  set("general.tags", metadata.tags);
  set("general.languages", metadata.languages);
  set("general.base_models", metadata.baseModels?.map(ref));
  set("general.datasets", metadata.datasets?.map(ref));
  return out;
}
