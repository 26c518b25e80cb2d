/** A file this publish puts in the repo. */
export interface LocalFile {
  path: string;
  bytes: number;
  sha256: string;
  /** git's blob id of the content, for files small enough to compare with a remote file stored outside LFS. */
  gitOid?: string;
  /** Where the bytes are: a file on disk (uploaded by streaming) or generated text. */
  source: { kind: "file"; file: string } | { kind: "memory"; content: Uint8Array };
}

/** A file in the remote repo, as paths-info describes it. */
export interface RemoteFile {
  path: string;
  size: number;
  /** git blob id (of the LFS pointer for LFS files). */
  oid?: string;
  lfs?: { oid: string; size: number };
}

export type FileAction = "add" | "update" | "unchanged" | "delete";

export interface PlannedFile {
  path: string;
  action: FileAction;
  bytes: number;
  sha256?: string;
  local?: LocalFile;
}

export interface PlanCommitParams {
  local: LocalFile[];
  remote: RemoteFile[];
  /** The files an earlier publish put there (the remote report.json's artifacts): deleted when this one lacks them. */
  previous: string[];
}

/**
 * What one commit must do: each local file added, updated or left as it is (its sha256 is the remote LFS oid, or its
 * git blob id the remote oid), and each earlier-published file this run no longer has deleted. Other remote files are
 * never touched. Sorted by path, so the same inputs always make the same commit.
 */
export function planCommit(params: PlanCommitParams): PlannedFile[] {
  const remote = new Map(params.remote.map((f) => [f.path, f]));
  const plan: PlannedFile[] = [];
  const ours = new Set<string>();
  for (const local of params.local) {
    ours.add(local.path);
    const there = remote.get(local.path);
    const action: FileAction = !there ? "add" : sameContent(local, there) ? "unchanged" : "update";
    plan.push({ path: local.path, action, bytes: local.bytes, sha256: local.sha256, local });
  }
  for (const path of new Set(params.previous)) {
    const there = remote.get(path);
    if (ours.has(path) || !there) continue;
    plan.push({ path, action: "delete", bytes: there.size, ...(there.lfs ? { sha256: there.lfs.oid } : {}) });
  }
  return plan.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function sameContent(local: LocalFile, remote: RemoteFile): boolean {
  if (remote.lfs) return remote.lfs.oid === local.sha256 && remote.lfs.size === local.bytes;
  return local.gitOid !== undefined && remote.oid === local.gitOid;
}

/** Whether a plan changes anything (otherwise no commit is made at all). */
export function planChanges(plan: PlannedFile[]): boolean {
  return plan.some((f) => f.action !== "unchanged");
}
