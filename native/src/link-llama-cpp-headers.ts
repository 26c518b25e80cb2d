import { existsSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { ToolchainError, type StageEvent } from "@gguf-pipeline/core";
import { cacheLayout } from "./cache-layout.js";
import { ensureLlamaCpp } from "./ensure-llama-cpp.js";
import type { GoToolPrepareContext } from "./go-tool-prepare.js";

/**
 * Puts the header folders a Go module zip leaves out (Ollama's vendored nlohmann, miniaudio, stb) on the cgo include
 * path, from the pinned llama.cpp source. Only the named folders are linked, so nothing else in llama.cpp's vendor/
 * shadows the module's own headers. Builds llama.cpp first only when its source is not unpacked yet.
 */
export async function* linkLlamaCppHeaders(ctx: GoToolPrepareContext): AsyncGenerator<StageEvent, Record<string, string>> {
  const names = ctx.pin.llamaCppHeaders ?? [];
  const common = { ...(ctx.signal ? { signal: ctx.signal } : {}), ...(ctx.env ? { env: ctx.env } : {}) };
  let sourceDir = cacheLayout(ctx.env ? { env: ctx.env } : {}).sourceDir;
  if (!names.every((name) => existsSync(join(sourceDir, "vendor", name)))) sourceDir = (yield* ensureLlamaCpp(common)).sourceDir;
  const include = join(ctx.workDir, "cgo-include");
  await mkdir(include, { recursive: true });
  for (const name of names) {
    const from = join(sourceDir, "vendor", name);
    if (!existsSync(from)) {
      throw new ToolchainError({ file: from, message: `the pinned llama.cpp has no vendor/${name}, which ${ctx.pin.module} needs to compile`, hint: `update llamaCppHeaders for ${ctx.name} in native/go-tools.json` });
    }
    await symlink(from, join(include, name));
  }
  yield { type: "progress", stage: `go:${ctx.name}`, message: `cgo headers ${names.join(", ")} from ${join(sourceDir, "vendor")}` };
  // Go splits CGO_CPPFLAGS on spaces but honours quotes.
  return { CGO_CPPFLAGS: /\s/.test(include) ? `'-I${include}'` : `-I${include}` };
}
