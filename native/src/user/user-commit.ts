import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runToolToEnd } from "@gguf-pipeline/core";
import { rememberByIdentity } from "./remember-by-identity.js";

/**
 * A user's llama.cpp tree's commit (`unknown` outside a git checkout), remembered under the files git reads it from:
 * HEAD, the branch's ref and packed-refs. A checkout or a commit changes one of them; nothing else needs git again.
 */
export async function userCommit(params: { llamaCppDir: string; memoDir: string }): Promise<string> {
  const git = join(params.llamaCppDir, ".git");
  const head = await readFile(join(git, "HEAD"), "utf8").catch(() => "");
  const ref = /^ref:\s*(\S+)/.exec(head)?.[1];
  return rememberByIdentity({
    dir: params.memoDir,
    name: "commit",
    files: [join(git, "HEAD"), join(git, "packed-refs"), ...(ref ? [join(git, ref)] : [])],
    extra: { tree: params.llamaCppDir },
    compute: async () => {
      try {
        return (await runToolToEnd({ tool: "git", command: "git", args: ["-C", params.llamaCppDir, "rev-parse", "HEAD"] })).lines.join("").trim();
      } catch {
        return "unknown";
      }
    },
  });
}
