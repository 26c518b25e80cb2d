/** The `.gitattributes` the Hub puts in every new model repo's first commit ("initial commit"). */
export const DEFAULT_GITATTRIBUTES = `${[
  "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack",
  "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
  "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
]
  .map((pattern) => `${pattern} filter=lfs diff=lfs merge=lfs -text`)
  .join("\n")}\n`;

/** A git glob as a regular expression over a repo path, with git's rules: no "/" → matches the base name at any depth. */
function patternRegExp(pattern: string, coversContents = false): RegExp {
  const anchored = pattern.replace(/^\//, "").replace(/\/$/, "");
  let source = "";
  for (let i = 0; i < anchored.length; i++) {
    const c = anchored.charAt(i);
    if (anchored.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (anchored.startsWith("**", i)) {
      source += ".*";
      i += 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = anchored.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${anchored.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  const basenameOnly = !pattern.slice(0, -1).includes("/");
  // .gitignore on a folder covers what is inside; .gitattributes applies to files only.
  const tail = coversContents ? "(?:/.*)?$" : "$";
  return new RegExp(basenameOnly ? `(?:^|/)${source}${tail}` : `^${source}${tail}`);
}

interface Rule {
  regex: RegExp;
  on: boolean;
}

function attributeRules(gitattributes: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of gitattributes.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [pattern, ...attrs] = line.split(/\s+/);
    if (!pattern) continue;
    if (attrs.includes("filter=lfs")) rules.push({ regex: patternRegExp(pattern), on: true });
    else if (attrs.some((a) => a === "-filter" || a === "!filter" || (a.startsWith("filter=") && a !== "filter=lfs"))) rules.push({ regex: patternRegExp(pattern), on: false });
  }
  return rules;
}

/** Whether `.gitattributes` puts a path in LFS (the last matching line wins, as in git). */
export function isLfsTracked(gitattributes: string, path: string): boolean {
  let tracked = false;
  for (const rule of attributeRules(gitattributes)) if (rule.regex.test(path)) tracked = rule.on;
  return tracked;
}

/** Whether `.gitignore` ignores a path (`!pattern` re-includes; the last matching line wins). */
export function isIgnored(gitignore: string, path: string): boolean {
  let ignored = false;
  for (const raw of gitignore.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    if (patternRegExp(negated ? line.slice(1) : line, true).test(path)) ignored = !negated;
  }
  return ignored;
}
