import { HubApiError, downloadFile, pathsInfo } from "@huggingface/hub";
import { PublishError } from "../errors.js";
import type { RemoteFile } from "./plan-commit.js";

export interface ReadRemoteParams {
  hubUrl: string;
  accessToken: string;
  repo: string;
  branch: string;
  /** The paths this publish will write: their remote state decides add, update or unchanged. */
  paths: string[];
  fetch: typeof fetch;
}

/** The repo as the plan needs it, read at one commit so that the commit made on top of it is exact. */
export type RemoteState =
  | { exists: false }
  | {
      exists: true;
      /** The branch's head: the commit's parentCommit. */
      head: string;
      files: RemoteFile[];
      /** Paths an earlier publish listed in its report.json. */
      previous: string[];
    };

/**
 * Reads the branch head, the files an earlier publish made (from the remote report.json) and the remote state of every
 * path concerned (paths-info: size, git oid, LFS sha256). A missing repo is `exists: false`; a missing branch other
 * than the default one is an error, since the Hub's commit API does not create branches.
 */
export async function readRemote(params: ReadRemoteParams): Promise<RemoteState> {
  const { hubUrl, accessToken, repo, fetch } = params;
  const head = await branchHead(params);
  if (head === undefined) return { exists: false };
  const credentials = { hubUrl, accessToken, fetch, repo };
  const reportBlob = await downloadFile({ ...credentials, path: "report.json", revision: head }).catch(rethrow(repo));
  const previous = reportBlob ? publishedPaths(await reportBlob.text()) : [];
  const wanted = [...new Set([...params.paths, ...previous])];
  const files: RemoteFile[] = [];
  for (let i = 0; i < wanted.length; i += 500) {
    const infos = await pathsInfo({ ...credentials, paths: wanted.slice(i, i + 500), revision: head }).catch(rethrow(repo));
    for (const info of infos) {
      if (info.type !== "file") continue;
      files.push({ path: info.path, size: info.size, ...(info.oid ? { oid: info.oid } : {}), ...(info.lfs ? { lfs: { oid: info.lfs.oid, size: info.lfs.size } } : {}) });
    }
  }
  return { exists: true, head, files, previous };
}

async function branchHead(params: ReadRemoteParams): Promise<string | undefined> {
  const { hubUrl, accessToken, repo, branch } = params;
  const url = `${hubUrl}/api/models/${repo}/revision/${encodeURIComponent(branch)}?expand[]=sha`;
  const response = await params.fetch(url, { headers: { Authorization: `Bearer ${accessToken}` } }).catch((error: unknown) => {
    throw new PublishError({ message: `cannot reach ${hubUrl} to read ${repo} (${describe(error)})`, exitCode: 1, repo, hint: "check HF_ENDPOINT and the network, then run again", cause: error });
  });
  const code = response.headers.get("x-error-code");
  if (response.status === 404 && code === "RepoNotFound") return undefined;
  if (response.status === 404 && code === "RevisionNotFound") {
    throw new PublishError({ message: `${repo} has no branch "${branch}"`, exitCode: 2, repo, statusCode: 404, hint: `create the branch on the Hub first, or set publish.hf.branch to an existing one` });
  }
  if (!response.ok) throw statusError(repo, response.status, `reading ${repo}@${branch}`);
  const info = (await response.json()) as { sha?: unknown };
  if (typeof info.sha !== "string") throw new PublishError({ message: `the Hub's answer for ${repo}@${branch} has no commit id`, exitCode: 1, repo });
  return info.sha;
}

/** The artifact paths of a report.json an earlier publish wrote (nothing, if it is not one of ours). */
function publishedPaths(text: string): string[] {
  try {
    const report = JSON.parse(text) as { schemaVersion?: unknown; artifacts?: unknown };
    if (report.schemaVersion !== 1 || !Array.isArray(report.artifacts)) return [];
    // Never a dotfile (.gitattributes) or a path out of the repo, whatever a report.json says.
    const safe = (path: string) => !path.startsWith(".") && !path.split("/").includes("..");
    return report.artifacts.flatMap((a: unknown) => (a && typeof a === "object" && "path" in a && typeof a.path === "string" && safe(a.path) ? [a.path] : []));
  } catch {
    return [];
  }
}

/** An error status while reading: a token problem is the user's to fix (exit 2), the rest is the Hub's (exit 1). */
export function statusError(repo: string, status: number, doing: string): PublishError {
  if (status === 401 || status === 403) {
    return new PublishError({ message: `the Hub refused ${doing} (${status})`, exitCode: 2, repo, statusCode: status, hint: "check that HF_TOKEN is a write token of the repo's owner or one of its organizations" });
  }
  return new PublishError({ message: `the Hub answered ${status} while ${doing}`, exitCode: 1, repo, statusCode: status, hint: "run again later; nothing was committed" });
}

function rethrow(repo: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof HubApiError) throw statusError(repo, error.statusCode, `reading ${repo}`);
    if (error instanceof PublishError || (error instanceof Error && error.name === "AbortError")) throw error;
    throw new PublishError({ message: `cannot read ${repo} (${describe(error)})`, exitCode: 1, repo, hint: "check HF_ENDPOINT and the network, then run again", cause: error });
  };
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  return cause && "code" in cause && typeof cause.code === "string" ? cause.code : error instanceof Error ? error.message : String(error);
}
