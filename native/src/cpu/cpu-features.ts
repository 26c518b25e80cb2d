import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/**
 * The x86 instruction-set extensions a llama.cpp build can be made without, most specific first (the order in which a
 * SIGILL nobody could pin down is blamed). GGML_NATIVE compiles in every extension the CPU advertises; a `-mno-…` flag
 * wins over `-march=native` whatever their order (GCC and Clang track explicit ISA flags), so a build without one of
 * them is the native build plus these flags in CMAKE_C_FLAGS / CMAKE_CXX_FLAGS.
 */
export const switchableFeatures = {
  amx: { label: "AMX", cpuinfo: ["amx_tile", "amx_int8", "amx_bf16"], systemInfo: ["AMX_INT8"], flags: ["-mno-amx-tile", "-mno-amx-int8", "-mno-amx-bf16"] },
  avx512bf16: { label: "AVX512_BF16", cpuinfo: ["avx512_bf16"], systemInfo: ["AVX512_BF16"], flags: ["-mno-avx512bf16"] },
  avx512vnni: { label: "AVX512_VNNI", cpuinfo: ["avx512_vnni"], systemInfo: ["AVX512_VNNI"], flags: ["-mno-avx512vnni"] },
  avx512: { label: "AVX-512", cpuinfo: ["avx512f"], systemInfo: ["AVX512"], flags: ["-mno-avx512f"] },
  avxvnni: { label: "AVX_VNNI", cpuinfo: ["avx_vnni"], systemInfo: ["AVX_VNNI"], flags: ["-mno-avxvnni"] },
} as const;

export type CpuFeature = keyof typeof switchableFeatures;

export const cpuFeatureNames = Object.keys(switchableFeatures) as CpuFeature[];

export function isCpuFeature(name: string): name is CpuFeature {
  return Object.hasOwn(switchableFeatures, name);
}

/** The compiler flags of a build without these features, in the table's order (so the same set gives the same key). */
export function flagsWithout(features: readonly CpuFeature[]): string[] {
  return cpuFeatureNames.filter((f) => features.includes(f)).flatMap((f) => switchableFeatures[f].flags);
}

export interface CpuInfo {
  model: string;
  /** /proc/cpuinfo's flags of the first CPU (empty where there is no /proc). */
  flags: string[];
}

export function readCpuInfo(): CpuInfo {
  let text = "";
  try {
    text = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    text = "";
  }
  const flags = /^flags\s*:(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
  return { model: cpus()[0]?.model ?? "", flags };
}

/** GGML_NATIVE builds for this CPU's instruction set, so build keys and self-test results are per CPU model and flags. */
export function cpuFingerprint(info: CpuInfo = readCpuInfo()): string {
  return `${process.platform}-${process.arch}-${info.model}-${createHash("sha256").update(info.flags.join(" ")).digest("hex").slice(0, 8)}`;
}

/**
 * The extensions a build uses, from ggml's own `system_info` line (`CPU : SSE3 = 1 | … | AVX512 = 1 | AMX_INT8 = 1 |`):
 * what was compiled in, which is what a tool can execute.
 */
export function systemInfoFeatures(line: string): string[] {
  const cpu = /CPU\s*:(.*)$/.exec(line)?.[1] ?? "";
  return [...cpu.matchAll(/([A-Z0-9_]+)\s*=\s*1\b/g)].map((m) => m[1] ?? "").filter(Boolean);
}

/** The switchable features a build's system_info shows, in the table's order. */
export function buildUses(systemInfo: readonly string[]): CpuFeature[] {
  return cpuFeatureNames.filter((f) => switchableFeatures[f].systemInfo.some((name) => systemInfo.includes(name)));
}

/** Features the build uses that this CPU does not advertise: a cache moved to another machine, or a VM that hides them. */
export function missingOnThisCpu(features: readonly CpuFeature[], info: CpuInfo = readCpuInfo()): CpuFeature[] {
  if (info.flags.length === 0) return [];
  return features.filter((f) => !switchableFeatures[f].cpuinfo.some((flag) => info.flags.includes(flag)));
}

/**
 * The extension an instruction belongs to, as gdb disassembles it (AT&T syntax): AMX tile instructions; the BF16 and
 * VNNI dot products (with the VEX form `{vex} vpdpbusd` being AVX-VNNI); anything on zmm or mask registers is AVX-512.
 */
export function featureOfInstruction(instruction: string): CpuFeature | undefined {
  const text = instruction.trim();
  const mnemonic = /^(\{vex\}\s*)?([a-z0-9]+)/.exec(text)?.[2] ?? "";
  if (/^(tile|tdp|ldtilecfg|sttilecfg|tcmm)/.test(mnemonic)) return "amx";
  if (/^\{vex\}/.test(text) && /^vpdp(bu|ws)sds?$/.test(mnemonic)) return "avxvnni";
  if (/^(vdpbf16ps|vcvtne2ps2bf16|vcvtneps2bf16)$/.test(mnemonic)) return "avx512bf16";
  if (/^vpdp(bu|ws)sds?$/.test(mnemonic)) return "avx512vnni";
  if (/%zmm\d|%k[1-7]\b|\{%k[0-7]\}/.test(text)) return "avx512";
  return undefined;
}
