import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { formatWhere } from "./format-where.js";

const artifact = (stage: string, path: string) => ({ stage, path, bytes: 1, sha256: "0".repeat(64), cacheKey: "k", createdAt: "2026-12-06T00:00:00Z" });

describe("formatWhere", () => {
  it("should say where each thing the run made is, relative to the working folder", () => {
    const report = {
      artifacts: [artifact("convert", "T-F32.gguf"), artifact("imatrix", "T.imatrix.gguf"), artifact("quantize", "T-Q4_K_M.gguf"), artifact("evaluate:chart", "T-quality.svg")],
      published: {
        hf: [{ repo: "you/T-GGUF", endpoint: "https://huggingface.co", branch: "main", files: [], uploadedBytes: 0, folder: "hub/you/T-GGUF" }],
        ollama: { folder: "ollama", tags: [{ tag: "t:q4_k_m", file: "T-Q4_K_M.gguf", folder: "ollama/q4_k_m", created: false, pushed: false }, { tag: "t:latest", file: "T-Q4_K_M.gguf", folder: "ollama/q4_k_m", created: false, pushed: false }], uploadedBlobs: 0 },
      },
    } as unknown as RunReport;
    expect(formatWhere({ report, outDir: "/work/ex/out", reportPath: "/work/ex/out/report.json", cwd: "/work" })).toEqual([
      "made in ex/out/:",
      "  models   T-F32.gguf, T-Q4_K_M.gguf",
      "  imatrix  T.imatrix.gguf",
      "  chart    T-quality.svg (bits per weight against KL divergence)",
      "  hub      hub/you/T-GGUF/ — README.md (the model card) and the files a commit to you/T-GGUF would hold, not sent",
      "  ollama   ollama/<tag>/Modelfile — with Ollama: ollama create t:latest -f ex/out/ollama/q4_k_m/Modelfile",
      "  report   report.json (pipeline report ex/out)",
    ]);
  });

  it("should keep an absolute output folder that lies outside the working folder", () => {
    const report = { artifacts: [artifact("convert", "T-F32.gguf")] } as unknown as RunReport;
    expect(formatWhere({ report, outDir: "/tmp/out", reportPath: "/tmp/out/report.json", cwd: "/work" })[0]).toBe("made in /tmp/out/:");
  });
});
