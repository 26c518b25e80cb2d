import { chmod, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

/**
 * How a wrapped tool misbehaves: `sigill` runs an AMX instruction with no tile configuration (`tilezero %tmm4`, written
 * as bytes so any assembler takes it), which faults with SIGILL on every x86-64 CPU — without AMX it is undefined, with
 * AMX it needs a tile config and the kernel's permission — when one of its arguments contains `when` (always, without
 * it) and otherwise runs the real tool; `swap` runs the real tool with one text replaced in its arguments (a kernel that
 * computes on the wrong data, as the self-test sees it).
 */
export type Fault = { kind: "sigill"; when?: string } | { kind: "swap"; from: string; to: string };

/**
 * A folder that stands in for a llama.cpp build's bin/: every tool a link to the real one, except the faulty ones.
 * The faults are real processes (a real SIGILL, real outputs): only what reaches the pipeline is changed.
 */
export async function faultyBinDir(params: { dir: string; realBinDir: string; faults: Record<string, Fault> }): Promise<string> {
  await mkdir(params.dir, { recursive: true });
  for (const tool of await readdir(params.realBinDir)) {
    const real = join(params.realBinDir, tool);
    const fault = params.faults[tool];
    const target = join(params.dir, tool);
    if (!fault) await symlink(real, target);
    else if (fault.kind === "swap") {
      await writeFile(target, `#!/usr/bin/env bash\nexec ${JSON.stringify(real)} "\${@//${fault.from}/${fault.to}}"\n`);
      await chmod(target, 0o755);
    } else {
      const source = join(params.dir, "..", `${tool}.c`);
      await writeFile(source, sigillProgram(real, fault.when ?? ""));
      await execa("gcc", ["-O1", "-g", "-o", target, source]);
    }
  }
  return params.dir;
}

function sigillProgram(real: string, when: string): string {
  return `#include <string.h>
#include <unistd.h>
static void fault(void) { __asm__ volatile(".byte 0xc4, 0xe2, 0x7b, 0x49, 0xe0" ::: "memory"); /* tilezero %tmm4 */ }
int main(int argc, char **argv) {
  const char *when = ${JSON.stringify(when)};
  int hit = when[0] == 0;
  for (int i = 1; i < argc && !hit; i++) hit = strstr(argv[i], when) != NULL;
  if (hit) fault();
  execv(${JSON.stringify(real)}, argv);
  return 127;
}
`;
}

/** A program on PATH (or in its place) that logs each call's arguments, one line per call, then runs the real one. */
export async function loggingWrapper(params: { file: string; real: string; log: string }): Promise<string> {
  await writeFile(params.file, `#!/usr/bin/env bash\necho "$*" >> ${JSON.stringify(params.log)}\nexec ${JSON.stringify(params.real)} "$@"\n`);
  await chmod(params.file, 0o755);
  return params.file;
}
