import { createInterface } from "node:readline";
import { applyCommit } from "../apply-commit.js";
import type { CommitOperation } from "../apply-commit.js";
import type { Call, Route } from "../context.js";
import { writableRepo } from "../context.js";
import { badRequest } from "../hub-error.js";
import { inlineFile } from "../inline-file.js";
import { isObject, truthy } from "../read-body.js";
import { REPO, REV } from "../repo-paths.js";
import { sendJson } from "../reply.js";

interface ParsedCommit {
  header?: { summary: string; description: string; parentCommit?: string };
  operations: CommitOperation[];
}

function text(value: Record<string, unknown>, key: string): string {
  const found = value[key];
  if (typeof found !== "string") throw badRequest(`Invalid commit line: "${key}" must be a string`);
  return found;
}

/** One NDJSON line; inline content is stored at once, so a large commit is never held whole in memory. */
async function parseLine(call: Call, line: string, into: ParsedCommit): Promise<void> {
  let item: unknown;
  try {
    item = JSON.parse(line);
  } catch {
    throw badRequest("Invalid NDJSON line in commit payload");
  }
  if (!isObject(item) || !isObject(item.value)) throw badRequest('Each commit line needs { "key", "value" }');
  const value = item.value;
  switch (item.key) {
    case "header": {
      const parent = value.parentCommit;
      into.header = { summary: text(value, "summary"), description: typeof value.description === "string" ? value.description : "", ...(typeof parent === "string" && parent ? { parentCommit: parent } : {}) };
      return;
    }
    case "file":
      into.operations.push(await inlineFile(call.hub.objects, text(value, "path"), Buffer.from(text(value, "content"), value.encoding === "utf-8" ? "utf8" : "base64")));
      return;
    case "lfsFile": {
      if (value.algo !== undefined && value.algo !== "sha256") throw badRequest(`Unsupported LFS algo "${String(value.algo)}"`);
      const size = value.size === undefined ? undefined : Number(value.size);
      into.operations.push({ key: "lfsFile", path: text(value, "path"), sha256: text(value, "oid"), ...(size === undefined ? {} : { size }) });
      return;
    }
    case "deletedFile":
    case "deletedFolder":
      into.operations.push({ key: item.key, path: text(value, "path") });
      return;
    default:
      throw badRequest(`Unknown commit operation "${String(item.key)}"`);
  }
}

/** The commit API: NDJSON (header, file, lfsFile, deletedFile, deletedFolder) → a commit, or a new pull request with `create_pr=1`. */
async function commit(call: Call): Promise<void> {
  const name = `${call.params[0] ?? ""}/${call.params[1] ?? ""}`;
  const repo = writableRepo(call, name);
  const rev = call.params[2] ?? "main";
  const parsed: ParsedCommit = { operations: [] };
  for await (const line of createInterface({ input: call.req, crlfDelay: Infinity })) {
    if (line.trim()) await parseLine(call, line, parsed);
  }
  if (!parsed.header) throw badRequest('Missing the "header" line of the commit');
  if (!parsed.header.summary.trim()) throw badRequest("The commit summary must not be empty");
  const caller = call.caller?.user ?? "";
  const createPr = truthy(call.url.searchParams.get("create_pr"));
  const { header } = parsed;
  const result = await applyCommit(call.hub.repos, call.hub.objects, {
    repo,
    rev,
    createPr,
    title: header.summary,
    description: header.description,
    author: caller,
    operations: parsed.operations,
    ...(header.parentCommit ? { parentCommit: header.parentCommit } : {}),
  });
  const base = `${call.hub.baseUrl}/${name}`;
  sendJson(call.res, 200, {
    success: true,
    commitOid: result.commit.oid,
    commitUrl: `${base}/commit/${result.commit.oid}`,
    hookOutput: "",
    ...(result.pr ? { pullRequestUrl: `${base}/discussions/${result.pr.num}` } : {}),
  });
}

export const commitRoutes: Route[] = [{ methods: ["POST"], pattern: new RegExp(`^/api/models/${REPO}/commit/${REV}$`), write: true, handle: commit }];
