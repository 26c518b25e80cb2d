import { execa } from "execa";
import { goToolBin } from "./go-tool-bin.js";

export interface ActionlintParams {
  /** Workflow files (.github/workflows/*.yml). */
  files: string[];
  cwd?: string;
}

export interface ActionlintOutput {
  ok: boolean;
  /** One problem per line: `file:line:col: message [rule]`. */
  output: string;
}

/**
 * Checks GitHub Actions workflow files with the pinned actionlint. Its shellcheck and pyflakes passes are off, so the
 * result does not depend on what else the machine has installed.
 */
export async function actionlint(params: ActionlintParams): Promise<ActionlintOutput> {
  const bin = await goToolBin("actionlint");
  const result = await execa(bin, ["-no-color", "-oneline", "-shellcheck=", "-pyflakes=", ...params.files], { reject: false, all: true, stdin: "ignore", ...(params.cwd ? { cwd: params.cwd } : {}) });
  // 1 means problems found; anything else is actionlint itself failing.
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`actionlint failed (exit ${result.exitCode}): ${result.all}`);
  return { ok: result.exitCode === 0, output: result.all.trim() };
}
