import { describe, expect, it } from "vitest";
import type { RunReport } from "@gguf-pipeline/core";
import { formatValidation } from "./format-validation.js";

const check = (name: string, ok: boolean, fact: string) => ({ name, ok, fact });

describe("formatValidation", () => {
  it("should show each file's passed checks, the smoke output, failures with their facts, and the license", () => {
    const report = {
      validation: {
        allowed: ["chat template"],
        files: {
          "m-F32.gguf": { ok: true, checks: [check("magic", true, "starts with GGUF"), check("smoke test", true, '16 tokens: "hi"')] },
          "m-Q2_K.gguf": { ok: false, checks: [check("magic", true, "starts with GGUF"), check("context length", false, "llama.context_length is missing")] },
          "m-Q4_0.gguf": { ok: false, checks: [check("chat template", false, "the GGUF has none")] },
        },
      },
      otherFiles: ["m-Q5_K_M.gguf"],
      license: { id: "llama3.1", link: "https://llama.meta.com/llama3_1/license/", from: "model/README.md (license)", files: ["LICENSE", "USE_POLICY.md"], warnings: ["w"] },
    } as unknown as RunReport;
    expect(formatValidation(report)).toEqual([
      "validation   checks  result",
      'm-F32.gguf   2/2     pass            smoke: 16 tokens: "hi"',
      "m-Q2_K.gguf  1/2     FAIL            context length: llama.context_length is missing",
      "m-Q4_0.gguf  0/1     pass (allowed)  chat template (allowed): the GGUF has none",
      "license: llama3.1 from model/README.md (license) · link https://llama.meta.com/llama3_1/license/ · ships LICENSE, USE_POLICY.md",
      "warning: w",
      "note: the output folder also holds files this run did not make: m-Q5_K_M.gguf",
    ]);
  });
});
