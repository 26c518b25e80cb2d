import { describe, expect, it } from "vitest";
import type { Artifact, RunReport } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { ollamaTags } from "./tags.js";

const art = (path: string, stage: string, type?: string, shard?: { index: number; count: number }): Artifact => ({
  path,
  stage,
  sha256: path.padEnd(64, "0"),
  bytes: 10,
  cacheKey: "k",
  ...(type ? { ggufType: type } : {}),
  ...(stage === "quantize" && type ? { quant: { type, bitsPerWeight: 4, ...(shard ? { shard } : {}) } } : {}),
});
const report = (artifacts: Artifact[], kinds: Record<string, "embedding"> = {}): RunReport =>
  ({ artifacts, validation: { allowed: [], files: Object.fromEntries(artifacts.map((a) => [a.path, { ok: true, checks: [], ...(kinds[a.path] ? { kind: kinds[a.path] } : {}) }])) } }) as unknown as RunReport;
const settings = { name: "tiny", push: false, insecure: false };
const ladder = [art("T-F32.gguf", "convert", "F32"), art("T-imatrix.gguf", "imatrix"), art("T-Q8_0.gguf", "quantize", "Q8_0"), art("T-Q4_K_M.gguf", "quantize", "Q4_K_M"), art("LICENSE", "license")];

describe("ollamaTags", () => {
  it("should make a tag per model file in the report's order, latest → Q4_K_M", () => {
    const out = ollamaTags({ report: report(ladder), settings });
    expect(out.tags.map((t) => [t.tag, t.type, t.files.map((f) => f.path), t.reference, t.kind])).toEqual([
      ["f32", "F32", ["T-F32.gguf"], true, "text-generation"],
      ["q8_0", "Q8_0", ["T-Q8_0.gguf"], false, "text-generation"],
      ["q4_k_m", "Q4_K_M", ["T-Q4_K_M.gguf"], false, "text-generation"],
    ]);
    expect(out.latest).toBe("q4_k_m");
    expect(out.adapter).toBeUndefined();
  });

  it("should point latest at the reference without Q4_K_M, and at the recipe's choice when given", () => {
    expect(ollamaTags({ report: report(ladder.filter((a) => a.ggufType !== "Q4_K_M")), settings }).latest).toBe("f32");
    expect(ollamaTags({ report: report(ladder), settings: { ...settings, latest: "q8_0" } }).latest).toBe("q8_0");
  });

  it("should narrow to settings.tags by type, and refuse a type the run did not make", () => {
    expect(ollamaTags({ report: report(ladder), settings: { ...settings, tags: ["q8_0"] } })).toMatchObject({ tags: [{ tag: "q8_0" }], latest: "q8_0" });
    expect(() => ollamaTags({ report: report(ladder), settings: { ...settings, tags: ["Q5_K_M"] } })).toThrow(/publish.ollama.tags names Q5_K_M, which this run did not make/);
    expect(() => ollamaTags({ report: report(ladder), settings: { ...settings, tags: ["Q8_0"], latest: "F32" } })).toThrow(PublishError);
  });

  it("should keep a split quant's shards together, first shard first", () => {
    const shards = [art("T-F16-00002-of-00002.gguf", "quantize", "F16", { index: 2, count: 2 }), art("T-F16-00001-of-00002.gguf", "quantize", "F16", { index: 1, count: 2 })];
    const out = ollamaTags({ report: report([ladder[0] as Artifact, ...shards]), settings });
    expect(out.tags[1]?.files.map((f) => f.path)).toEqual(["T-F16-00001-of-00002.gguf", "T-F16-00002-of-00002.gguf"]);
  });

  it("should use the merged model as the reference, and ride an unmerged adapter on every tag", () => {
    const merged = [art("T-F32.gguf", "convert", "F32"), art("T-a-LoRA-F32.gguf", "adapter:a", "F32"), art("T-merged-F32.gguf", "merge", "F32"), art("T-Q8_0.gguf", "quantize", "Q8_0")];
    const out = ollamaTags({ report: report(merged), settings });
    expect(out.tags.map((t) => t.files[0]?.path)).toEqual(["T-merged-F32.gguf", "T-Q8_0.gguf"]);
    expect(out.adapter).toBeUndefined();
    const unmerged = merged.filter((a) => a.stage !== "merge");
    expect(ollamaTags({ report: report(unmerged), settings }).adapter?.path).toBe("T-a-LoRA-F32.gguf");
    expect(() => ollamaTags({ report: report([...unmerged, art("T-b-LoRA-F32.gguf", "adapter:b", "F32")]), settings })).toThrow(/2 unmerged adapters/);
  });

  it("should carry the validated kind, and refuse a run without model files", () => {
    expect(ollamaTags({ report: report([art("E-F32.gguf", "convert", "F32")], { "E-F32.gguf": "embedding" }), settings }).tags[0]?.kind).toBe("embedding");
    expect(() => ollamaTags({ report: report([art("LICENSE", "license")]), settings })).toThrow(/no model file/);
  });
});
