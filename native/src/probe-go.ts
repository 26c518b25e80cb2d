import { runToolToEnd, ToolchainError } from "@gguf-pipeline/core";
import type { GoInfo } from "./go-tool-layout.js";

export interface ProbeGoParams {
  signal?: AbortSignal;
  /** The go program; `go` on PATH by default. */
  command?: string;
}

/** What the test servers need from Go, said once wherever it is missing. */
export const goInstallHint = "install Go 1.26 or newer and put `go` on PATH (https://go.dev/dl/, or Debian: apt-get install golang-go from a recent release)";

/** The Go on PATH (version and platform), or a ToolchainError with the fix when there is none. */
export async function probeGo(params: ProbeGoParams = {}): Promise<GoInfo> {
  let lines: string[];
  try {
    lines = (await runToolToEnd({ tool: "go env", command: params.command ?? "go", args: ["env", "GOVERSION", "GOOS", "GOARCH"], env: { GOTOOLCHAIN: "local" }, ...(params.signal ? { signal: params.signal } : {}) })).lines;
  } catch (error) {
    throw new ToolchainError({ message: "Go is not installed: the test servers (ollama, registry, actionlint) are built from source with it", hint: goInstallHint, cause: error });
  }
  const [goversion = "", goos = "", goarch = ""] = lines.map((l) => l.trim());
  const version = /^go(\d+(?:\.\d+)*)/.exec(goversion)?.[1];
  if (!version || !goos || !goarch) throw new ToolchainError({ message: `could not read Go's version from \`go env\` (got "${lines.join(" ")}")`, hint: goInstallHint });
  return { version, goos, goarch };
}
