import { describe, expect, it } from "vitest";
import type { Artifact } from "@gguf-pipeline/core";
import type { HubSettings } from "../publish-types.js";
import { repoTargets } from "./repo-targets.js";

const file = (path: string, stage: string): Artifact => ({ path, stage, sha256: "0".repeat(64), bytes: 1, cacheKey: "k" });
const artifacts = [file("T-F16.gguf", "convert"), file("T-Q8_0.gguf", "quantize"), file("T-lora-style.gguf", "adapter:style"), file("LICENSE", "license")];
const settings = (extra: Partial<HubSettings>): HubSettings => ({ repo: "me/t", private: false, branch: "main", createPr: false, ...extra });
const paths = (targets: ReturnType<typeof repoTargets>) => targets.map((t) => [t.repo, t.repoKind, t.artifacts.map((a) => a.path)]);

describe("repoTargets", () => {
  it("should put every selected file in the model repo without an adapter repo", () => {
    expect(paths(repoTargets({ settings: settings({}), artifacts }))).toEqual([["me/t", "model", ["T-F16.gguf", "T-Q8_0.gguf", "T-lora-style.gguf", "LICENSE"]]]);
  });

  it("should send unmerged adapters to the adapter repo, with the license files in both", () => {
    expect(paths(repoTargets({ settings: settings({ adapterRepo: "me/t-lora" }), artifacts }))).toEqual([
      ["me/t", "model", ["T-F16.gguf", "T-Q8_0.gguf", "LICENSE"]],
      ["me/t-lora", "adapter", ["T-lora-style.gguf", "LICENSE"]],
    ]);
  });

  it("should make no adapter repo when the run has no unmerged adapters, and apply the file patterns first", () => {
    expect(paths(repoTargets({ settings: settings({ adapterRepo: "me/t-lora", files: ["*Q8_0*"] }), artifacts }))).toEqual([["me/t", "model", ["T-Q8_0.gguf", "LICENSE"]]]);
  });
});
