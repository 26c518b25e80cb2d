import { join } from "node:path";
import { cacheRoot, stableKey } from "@gguf-pipeline/core";
import { readGoToolsPin, type GoToolName, type GoToolPin, type GoToolsPin } from "./go-tools-pin.js";

/** The Go that builds the helper binaries, as `go env` reports it. */
export interface GoInfo {
  /** `1.26.8` (GOVERSION without the `go` prefix). */
  version: string;
  goos: string;
  goarch: string;
}

export interface GoToolLayout {
  name: GoToolName;
  pin: GoToolPin;
  /** `<cache>/go`: every helper binary, and the module and build caches they share. */
  root: string;
  key: string;
  /** `<root>/<name>-<version>-<key>`: complete once `marker` exists. */
  entryDir: string;
  binPath: string;
  marker: string;
  lock: string;
  /** The arguments after `go`. */
  installArgs: string[];
  /** What the build runs with; GOBIN and the cgo include path are added per build. */
  buildEnv: Record<string, string>;
}

export interface GoToolLayoutParams {
  name: GoToolName;
  go: GoInfo;
  env?: NodeJS.ProcessEnv;
  /** native/go-tools.json by default. */
  pin?: GoToolsPin;
}

/** Where a helper binary lives and how it is built. Pure: nothing is read or written but the pin file. */
export function goToolLayout(params: GoToolLayoutParams): GoToolLayout {
  const pins = params.pin ?? readGoToolsPin();
  const pin = pins.tools[params.name];
  const { $comment: _why, ...recipe } = pin;
  // The comment is for people; everything else that shapes the binary is in the key. The llama.cpp headers are named,
  // not hashed: they only stand in for files the module zip drops, so a llama.cpp bump does not rebuild Ollama.
  const key = stableKey({ recipe, goFlags: pins.goFlags, go: params.go.version, platform: `${params.go.goos}-${params.go.goarch}` }).slice(0, 16);
  const root = join(cacheRoot(params.env ? { env: params.env } : {}), "go");
  const entryDir = join(root, `${params.name}-${pin.version}-${key}`);
  const gopath = join(root, "gopath");
  return {
    name: params.name,
    pin,
    root,
    key,
    entryDir,
    binPath: join(entryDir, "bin", pin.bin),
    marker: join(entryDir, "tool.json"),
    lock: join(cacheRoot(params.env ? { env: params.env } : {}), "locks", `go-${params.name}-${key}`),
    installArgs: ["install", ...pins.goFlags, ...(pin.ldflags ? ["-ldflags", pin.ldflags] : []), "-v", `${pin.package}@${pin.version}`],
    buildEnv: {
      // Our own module and build caches: the user's GOPATH is left alone, and every clone shares these.
      GOPATH: gopath,
      GOMODCACHE: join(gopath, "pkg", "mod"),
      GOCACHE: join(root, "gocache"),
      // Never fetch a different Go: an old one fails with a clear line instead.
      GOTOOLCHAIN: "local",
      GOFLAGS: "",
      CGO_ENABLED: pin.cgo ? "1" : "0",
    },
  };
}
