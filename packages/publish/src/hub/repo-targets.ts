import type { Artifact } from "@gguf-pipeline/core";
import { selectFiles } from "./select-files.js";
import type { HubSettings } from "../publish-types.js";

/** One repo a publish writes, and the run's files that go there. */
export interface RepoTarget {
  repo: string;
  repoKind: "model" | "adapter";
  artifacts: Artifact[];
}

export interface RepoTargetsParams {
  settings: HubSettings;
  artifacts: Artifact[];
}

/**
 * Which files go to which repo: everything selected goes to the model repo, except unmerged GGUF adapters when
 * `adapterRepo` is set: those go to the adapter repo (with the license files, which travel with every part).
 */
export function repoTargets(params: RepoTargetsParams): RepoTarget[] {
  const selected = selectFiles({ artifacts: params.artifacts, ...(params.settings.files ? { patterns: params.settings.files } : {}) });
  const adapterRepo = params.settings.adapterRepo;
  const isAdapter = (a: Artifact) => a.stage.startsWith("adapter:");
  const adapters = selected.filter(isAdapter);
  if (!adapterRepo || adapters.length === 0) return [{ repo: params.settings.repo, repoKind: "model", artifacts: selected }];
  const licenses = selected.filter((a) => a.stage === "license");
  return [
    { repo: params.settings.repo, repoKind: "model", artifacts: selected.filter((a) => !isAdapter(a)) },
    { repo: adapterRepo, repoKind: "adapter", artifacts: [...adapters, ...licenses] },
  ];
}
