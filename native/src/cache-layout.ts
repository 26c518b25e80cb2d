import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { cacheRoot, stableKey } from "@gguf-pipeline/core";
import { readPatches, readPin, readRequirements } from "./pin.js";

export interface CacheLayout {
  root: string;
  downloads: string;
  /** The llama.cpp checkout for the pinned commit and patches (shared by every flag set). */
  sourceDir: string;
  /** The CMake build for pin + flags + this CPU (GGML_NATIVE tunes for the host). */
  buildDir: string;
  buildMarker: string;
  buildKey: string;
  venvDir: string;
  venvMarker: string;
  venvKey: string;
  locks: string;
}

export function cacheLayout(params: { env?: NodeJS.ProcessEnv } = {}): CacheLayout {
  const root = cacheRoot(params.env ? { env: params.env } : {});
  const pin = readPin();
  const patches = readPatches(pin).map((p) => p.text);
  const sourceKey = stableKey({ commit: pin.source.llamaCppCommit, patches }).slice(0, 8);
  const buildKey = stableKey({ source: pin.source, cmake: pin.cmake, patches, cpu: cpuFingerprint() }).slice(0, 16);
  const venvKey = createHash("sha256").update(readRequirements()).update(process.platform + process.arch).digest("hex").slice(0, 16);
  const llama = join(root, "llama.cpp");
  return {
    root,
    downloads: join(root, "downloads"),
    sourceDir: join(llama, `src-${pin.source.llamaCppCommit.slice(0, 12)}-${sourceKey}`),
    buildDir: join(llama, `build-${buildKey}`),
    buildMarker: join(llama, `build-${buildKey}`, "toolchain.json"),
    buildKey,
    venvDir: join(root, "python", `venv-${venvKey}`),
    venvMarker: join(root, "python", `venv-${venvKey}`, "ready.json"),
    venvKey,
    locks: join(root, "locks"),
  };
}

/** GGML_NATIVE builds for this CPU's instruction set, so the build key includes it. */
function cpuFingerprint(): string {
  let flags = "";
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "";
  } catch {
    flags = "";
  }
  return `${process.platform}-${process.arch}-${cpus()[0]?.model ?? ""}-${createHash("sha256").update(flags).digest("hex").slice(0, 8)}`;
}
