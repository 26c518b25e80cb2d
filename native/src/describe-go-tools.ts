import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot, PipelineError } from "@gguf-pipeline/core";
import { readGoTool, type GoToolBuild } from "./ensure-go-tool.js";
import { goToolLayout, type GoInfo } from "./go-tool-layout.js";
import { goToolNames, readGoToolsPin, type GoToolName } from "./go-tools-pin.js";
import { probeGo } from "./probe-go.js";

export interface DescribeGoToolsParams {
  env?: NodeJS.ProcessEnv;
}

export interface GoToolStatus {
  name: GoToolName;
  module: string;
  version: string;
  /** Where the binary is (or will be, once built). */
  path: string;
  ready: boolean;
  builtAt?: string;
  seconds?: number;
  /** The `go install` line the build runs (in the cache's own GOPATH and GOCACHE). */
  command: string;
}

export interface GoToolsDescription {
  /** `<cache>/go`. */
  root: string;
  /** The Go on PATH; undefined when there is none. */
  go?: GoInfo;
  /** Why Go cannot be used, with the fix. */
  goProblem?: string;
  tools: GoToolStatus[];
  /** The project command that builds every helper binary. */
  fix: string;
}

/** Where the test servers' binaries are and whether they are built, without building anything (for `doctor`). */
export async function describeGoTools(params: DescribeGoToolsParams = {}): Promise<GoToolsDescription> {
  const env = params.env ? { env: params.env } : {};
  const root = join(cacheRoot(env), "go");
  const pins = readGoToolsPin();
  const fix = "npm test -- --project e2e test/e2e/servers.e2e.ts   (the end-to-end setup builds them)";
  let go: GoInfo | undefined;
  let goProblem: string | undefined;
  try {
    go = await probeGo();
  } catch (error) {
    goProblem = error instanceof PipelineError ? error.toLine() : String(error);
  }
  const tools: GoToolStatus[] = [];
  for (const name of goToolNames) {
    const pin = pins.tools[name];
    const cgo = pin.llamaCppHeaders?.length ? ` CGO_CPPFLAGS=-I<dir with llama.cpp vendor/{${pin.llamaCppHeaders.join(",")}}>` : "";
    const ldflags = pin.ldflags ? ` -ldflags "${pin.ldflags}"` : "";
    const command = `CGO_ENABLED=${pin.cgo ? 1 : 0}${cgo} go install ${pins.goFlags.join(" ")}${ldflags} ${pin.package}@${pin.version}`;
    const layout = go ? goToolLayout({ name, go, ...env }) : undefined;
    // Without Go the key cannot be computed: any finished build of the pinned version is shown instead.
    const built = layout ? await readGoTool(layout) : await anyBuild(root, `${name}-${pin.version}-`);
    tools.push({
      name,
      module: pin.module,
      version: pin.version,
      path: built?.bin ?? layout?.binPath ?? join(root, `${name}-${pin.version}-<key>`, "bin", pin.bin),
      ready: Boolean(built),
      ...(built ? { builtAt: built.builtAt, seconds: built.seconds } : {}),
      command,
    });
  }
  return { root, ...(go ? { go } : {}), ...(goProblem ? { goProblem } : {}), tools, fix };
}

async function anyBuild(root: string, prefix: string): Promise<GoToolBuild | undefined> {
  const entries = (await readdir(root).catch(() => [])).filter((e) => e.startsWith(prefix) && !e.includes(".tmp-"));
  for (const entry of entries) {
    const built = await readFile(join(root, entry, "tool.json"), "utf8").then((t) => JSON.parse(t) as GoToolBuild).catch(() => undefined);
    if (built) return built;
  }
  return undefined;
}
