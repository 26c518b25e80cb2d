import { describe, expect, it } from "vitest";
import type { OllamaPlan, OllamaPlannedBlob, OllamaPlannedTag } from "./plan-ollama.js";
import { formatOllamaPlan } from "./format-ollama-plan.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const blob = (name: string, c: string, present?: boolean): OllamaPlannedBlob => ({ name, from: [name], path: `/out/${name}`, digest: digest(c), bytes: 143_000, ...(present !== undefined ? { present } : {}) });
const tag = (t: string, model: OllamaPlannedBlob, server?: OllamaPlannedTag["server"]): OllamaPlannedTag => ({
  ref: `tiny:${t}`,
  tag: t,
  folder: `ollama/${t}`,
  file: model.name,
  kind: "text-generation",
  model,
  content: { template: "{{ .Prompt }}", parameters: {}, licenses: [], templateFrom: "converted from the GGUF's chat template" },
  modelfile: `FROM ./${model.name}\nTEMPLATE """{{ .Prompt }}"""\n`,
  ...(server ? { server } : {}),
});

describe("formatOllamaPlan", () => {
  it("should print each tag's action and Modelfile, then the blobs to upload", () => {
    const q8 = blob("Tiny-Q8_0.gguf", "a", false);
    const f32 = blob("Tiny-F32.gguf", "b", true);
    const plan: OllamaPlan = { name: "tiny", host: "http://127.0.0.1:11434", folder: "ollama", latest: "q8_0", push: false, insecure: false, warnings: [], tags: [tag("f32", f32, "changed"), tag("q8_0", q8, "new"), { ...tag("q8_0", q8, "new"), ref: "tiny:latest", tag: "latest" }] };
    expect(formatOllamaPlan(plan)).toEqual([
      "Ollama tiny on http://127.0.0.1:11434; latest → q8_0",
      "",
      "tiny:f32  re-create  ollama/f32/Modelfile  (template: converted from the GGUF's chat template)",
      "  | FROM ./Tiny-F32.gguf",
      '  | TEMPLATE """{{ .Prompt }}"""',
      "",
      "tiny:q8_0  create  ollama/q8_0/Modelfile  (template: converted from the GGUF's chat template)",
      "  | FROM ./Tiny-Q8_0.gguf",
      '  | TEMPLATE """{{ .Prompt }}"""',
      "",
      "tiny:latest  create  ollama/q8_0/Modelfile  (template: converted from the GGUF's chat template)",
      "",
      "blobs:",
      `  on the server         Tiny-F32.gguf    143 KB  ${digest("b")}`,
      `  upload                Tiny-Q8_0.gguf   143 KB  ${digest("a")}`,
      "  1 to upload (143 KB)",
    ]);
  });

  it("should say when only folders are written, and when a split quant is joined first", () => {
    const joined: OllamaPlannedBlob = { name: "Tiny-F16.gguf", from: ["Tiny-F16-00001-of-00002.gguf", "Tiny-F16-00002-of-00002.gguf"], bytes: 2_000_000 };
    const lines = formatOllamaPlan({ name: "tiny", folder: "ollama", latest: "f16", push: false, insecure: false, warnings: [], tags: [tag("f16", joined)] });
    expect(lines[0]).toBe("Ollama tiny (no host: Modelfile folders only); latest → f16");
    expect(lines[2]?.startsWith("tiny:f16  folder only  ollama/f16/Modelfile")).toBe(true);
    expect(lines.at(-1)).toBe("  Tiny-F16.gguf   2.0 MB  sha256 after joining (joined from 2 shards)");
  });
});
