import { readFileSync } from "node:fs";

/** One helper binary: `go install <package>@<version>` from the Go module proxy. */
export interface GoToolPin {
  /** Why this version: read by people, not by the code. */
  $comment: string;
  module: string;
  /** The main package inside the module (what `go install` builds). */
  package: string;
  /** An exact release tag: the module proxy serves it with a checksum from sum.golang.org. */
  version: string;
  /** The program's file name in GOBIN. */
  bin: string;
  /** Whether it needs cgo (a C/C++ compiler). */
  cgo: boolean;
  /** Passed as `-ldflags` (stamps version strings the module zip cannot carry). */
  ldflags?: string;
  /** Folders from the pinned llama.cpp's vendor/ put on the cgo include path (the module zip leaves them out). */
  llamaCppHeaders?: string[];
  /** The oldest Go the module's go.mod accepts; checked first so an old Go gets one clear line. */
  minGo: string;
}

export interface GoToolsPin {
  $comment: string;
  goFlags: string[];
  tools: Record<GoToolName, GoToolPin>;
}

/** The helper binaries, in the order they are built (the slow one first, so a cold setup shows it early). */
export const goToolNames = ["ollama", "registry", "actionlint"] as const;

export type GoToolName = (typeof goToolNames)[number];

export function readGoToolsPin(): GoToolsPin {
  return JSON.parse(readFileSync(new URL("../go-tools.json", import.meta.url), "utf8")) as GoToolsPin;
}

/** Whether Go `have` (`1.26.8`) is older than `need` (`1.26.0`); missing parts count as 0. */
export function goTooOld(params: { have: string; need: string }): boolean {
  const parts = (v: string) => v.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const have = parts(params.have);
  const need = parts(params.need);
  for (let i = 0; i < Math.max(have.length, need.length); i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}
