import type { Artifact } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
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
  // An empty selection is a mistake, never a publish of nothing (an earlier publish's files would look gone).
  if (params.settings.files && !selected.some((a) => a.stage !== "license")) {
    const names = params.artifacts.filter((a) => a.stage !== "license").map((a) => a.path);
    throw new PublishError({ message: `publish.hf.files (${params.settings.files.map((p) => JSON.stringify(p)).join(", ")}) matches none of the run's files (${names.join(", ")})`, exitCode: 2, hint: "fix the patterns: they are matched against the files' names, e.g. \"*Q4_K_M*\"" });
  }
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
