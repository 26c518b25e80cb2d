import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Pin {
  source: {
    npmPackage: string;
    version: string;
    bundle: string;
    llamaCppCommit: string;
    llamaCppDate: string;
    llamaCppTag: string;
  };
  cmake: { buildType: string; flags: string[]; targets: string[] };
  /** Patches applied to the clone with `git apply`, paths relative to native/. */
  patches?: string[];
}

/** The folder that holds pin.json and requirements.txt (the package root). */
export const nativeDir = fileURLToPath(new URL("..", import.meta.url));

export function readPin(): Pin {
  return JSON.parse(readFileSync(new URL("../pin.json", import.meta.url), "utf8")) as Pin;
}

export function readRequirements(): string {
  return readFileSync(new URL("../requirements.txt", import.meta.url), "utf8");
}

/** The Python packages and exact versions requirements.txt pins (comments dropped). */
export function pinnedPackages(requirements: string = readRequirements()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of requirements.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const match = /^([A-Za-z0-9_.-]+)==(\S+)$/.exec(line);
    if (match?.[1] && match[2]) out[match[1].toLowerCase()] = match[2];
  }
  return out;
}

/** The pinned patches with their contents (their bytes are part of the cache key). */
export function readPatches(pin: Pin = readPin()): { path: string; text: string }[] {
  return (pin.patches ?? []).map((path) => ({ path: fileURLToPath(new URL(`../${path}`, import.meta.url)), text: readFileSync(new URL(`../${path}`, import.meta.url), "utf8") }));
}
