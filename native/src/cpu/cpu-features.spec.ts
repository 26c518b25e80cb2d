import { describe, expect, it } from "vitest";
import { buildUses, featureOfInstruction, flagsWithout, missingOnThisCpu, systemInfoFeatures } from "./cpu-features.js";

describe("cpu features", () => {
  it("should read what ggml's system_info says a build uses", () => {
    const line = "n_threads = 2 (n_threads_batch = 2) / 2 | CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 1 | AVX512_VNNI = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | ";
    const features = systemInfoFeatures(line);
    expect(features).toEqual(["SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "AVX512", "AVX512_VNNI", "AMX_INT8", "LLAMAFILE", "OPENMP", "REPACK"]);
    expect(buildUses(features)).toEqual(["amx", "avx512vnni", "avx512"]);
  });

  it("should name the extension of the instructions gdb stops on", () => {
    expect(featureOfInstruction("tilezero %tmm4")).toBe("amx");
    expect(featureOfInstruction("tdpbssd %tmm2,%tmm1,%tmm0")).toBe("amx");
    expect(featureOfInstruction("ldtilecfg (%rax)")).toBe("amx");
    expect(featureOfInstruction("vdpbf16ps %zmm1,%zmm2,%zmm3")).toBe("avx512bf16");
    expect(featureOfInstruction("vpdpbusd %zmm1,%zmm2,%zmm3")).toBe("avx512vnni");
    expect(featureOfInstruction("{vex} vpdpbusd %ymm1,%ymm2,%ymm3")).toBe("avxvnni");
    expect(featureOfInstruction("vmovups (%rdi),%zmm0")).toBe("avx512");
    expect(featureOfInstruction("vaddps %ymm1,%ymm2,%ymm3{%k1}")).toBe("avx512");
    expect(featureOfInstruction("vfmadd231ps %ymm1,%ymm2,%ymm3")).toBeUndefined();
    expect(featureOfInstruction("ud2")).toBeUndefined();
  });

  it("should give the same flags for the same extensions in any order", () => {
    expect(flagsWithout(["avx512", "amx"])).toEqual(["-mno-amx-tile", "-mno-amx-int8", "-mno-amx-bf16", "-mno-avx512f"]);
    expect(flagsWithout(["amx", "avx512"])).toEqual(flagsWithout(["avx512", "amx"]));
    expect(flagsWithout([])).toEqual([]);
  });

  it("should say which extensions a build uses that the CPU does not advertise", () => {
    const info = { model: "x", flags: ["avx2", "avx512f", "avx512_vnni"] };
    expect(missingOnThisCpu(["amx", "avx512vnni", "avx512"], info)).toEqual(["amx"]);
    // Without /proc/cpuinfo nothing is known to be missing.
    expect(missingOnThisCpu(["amx"], { model: "x", flags: [] })).toEqual([]);
  });
});
