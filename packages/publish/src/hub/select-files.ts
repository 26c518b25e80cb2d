import type { Artifact } from "@gguf-pipeline/core";

export interface SelectFilesParams {
  artifacts: Artifact[];
  /** Glob patterns over the files' names (`*`, `?`, `**`, `[abc]`, `{a,b}`); none means every file. */
  patterns?: string[];
}

const shardSuffix = /-\d{5}-of-\d{5}(\.gguf)$/;

/**
 * The run's files that `publish.hf.files` selects. A shard is selected with its set (a pattern may name
 * `Model-Q4_K_M.gguf` for `Model-Q4_K_M-00001-of-00003.gguf`), and license files always travel with the model
 * (the license policy ships them; a published model must not lose them to a filter), as does a vision model's
 * projector (without it the model files are blind).
 */
export function selectFiles(params: SelectFilesParams): Artifact[] {
  const patterns = params.patterns ?? [];
  if (patterns.length === 0) return [...params.artifacts];
  const regexps = patterns.map(globRegExp);
  return params.artifacts.filter((artifact) => {
    if (artifact.stage === "license" || artifact.stage === "mmproj") return true;
    const names = [artifact.path, artifact.path.replace(shardSuffix, "$1")];
    return names.some((name) => regexps.some((re) => re.test(name)));
  });
}

/** A glob as an anchored regular expression: `*` and `?` stay within a folder, `**` crosses folders. */
export function globRegExp(pattern: string): RegExp {
  let source = "";
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (pattern.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (pattern.startsWith("**", i)) {
      source += ".*";
      i += 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "{") {
      braces++;
      source += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      source += ")";
    } else if (c === "," && braces > 0) source += "|";
    else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}${")".repeat(braces)}$`);
}
