import { describe, expect, it } from "vitest";
import type { Artifact, RunReport } from "@gguf-pipeline/core";
import { publishedReport } from "./published-report.js";

const artifact = (path: string): Artifact => ({ path, stage: "quantize", sha256: "a".repeat(64), bytes: 10, cacheKey: "k" });
const report = (startedAt: string): RunReport => ({
  schemaVersion: 1,
  recipe: { path: "/home/alice/models/recipe.json", sha256: "r".repeat(64) },
  startedAt,
  finishedAt: startedAt,
  tools: { llamaCppCommit: "c".repeat(40), llamaCppSource: "node-llama-cpp@3.22.1 (/home/alice/.cache/gguf-pipeline/llama.cpp/src)", python: "3.11.7", packages: { torch: "2.11.0" }, pipeline: "0.1.0" },
  stages: [{ stage: "convert", seconds: 12.3, cached: false }],
  artifacts: [artifact("T-F16.gguf"), artifact("T-Q8_0.gguf"), artifact("T-Q4_K_M.gguf")],
  otherFiles: ["stale.gguf"],
  validation: { allowed: [], files: { "T-F16.gguf": { ok: true, checks: [] }, "T-Q8_0.gguf": { ok: true, checks: [] }, "T-Q4_K_M.gguf": { ok: true, checks: [] } } },
  published: { hf: [] },
});

describe("publishedReport", () => {
  it("should leave out times, timings, publications, other files and local paths, so that re-runs publish the same bytes", () => {
    const files = [artifact("T-F16.gguf"), artifact("T-Q8_0.gguf")];
    const first = publishedReport({ report: report("2025-01-01T00:00:00Z"), artifacts: files });
    expect(publishedReport({ report: report("2025-06-01T12:00:00Z"), artifacts: files })).toBe(first);
    const parsed = JSON.parse(first) as Record<string, unknown>;
    expect(Object.keys(parsed)).not.toEqual(expect.arrayContaining(["startedAt"]));
    for (const key of ["startedAt", "finishedAt", "stages", "published", "otherFiles"]) expect(parsed).not.toHaveProperty(key);
    expect(parsed.recipe).toEqual({ sha256: "r".repeat(64) });
    expect(first).not.toContain("/home/alice");
    expect(parsed.tools).toMatchObject({ llamaCppSource: "node-llama-cpp@3.22.1", llamaCppCommit: "c".repeat(40) });
    expect(first.endsWith("}\n")).toBe(true);
  });

  it("should list this repo's files, and keep the validation of each (a split file's under its own name)", () => {
    const shards = [artifact("T-Q4_K_M-00001-of-00002.gguf"), artifact("T-Q4_K_M-00002-of-00002.gguf")];
    const parsed = JSON.parse(publishedReport({ report: report("x"), artifacts: [artifact("T-Q8_0.gguf"), ...shards] })) as RunReport;
    expect(parsed.artifacts.map((a) => a.path)).toEqual(["T-Q8_0.gguf", "T-Q4_K_M-00001-of-00002.gguf", "T-Q4_K_M-00002-of-00002.gguf"]);
    expect(Object.keys(parsed.validation?.files ?? {})).toEqual(["T-Q8_0.gguf", "T-Q4_K_M.gguf"]);
  });
});
