import { lfsPointer } from "./git-objects.js";
import type { CommitRecord, Repo } from "./repo-store.js";

export interface TreeItem {
  type: "file" | "directory";
  path: string;
}

/** Files and folders under `base` ("" for the root): children only, or everything below when recursive; in git's order. */
export function listTree(commit: CommitRecord, base: string, recursive: boolean): TreeItem[] | undefined {
  const prefix = base ? `${base}/` : "";
  const items = new Map<string, TreeItem>();
  for (const path of Object.keys(commit.files)) {
    if (!path.startsWith(prefix)) continue;
    const parts = path.slice(prefix.length).split("/");
    const depth = recursive ? parts.length : 1;
    for (let i = 1; i <= depth; i++) {
      const itemPath = prefix + parts.slice(0, i).join("/");
      items.set(itemPath, { type: i === parts.length ? "file" : "directory", path: itemPath });
    }
  }
  if (items.size === 0 && base && !commit.files[base]) return undefined;
  // A folder sorts as "name/": git's tree order, and each folder comes just before its contents.
  const key = (item: TreeItem) => Buffer.from(item.type === "directory" ? `${item.path}/` : item.path);
  return [...items.values()].sort((a, b) => Buffer.compare(key(a), key(b)));
}

function lastCommitOf(repo: Repo, oid: string): Record<string, string> | undefined {
  const commit = repo.commits.get(oid);
  return commit ? { id: commit.oid, title: commit.title, date: commit.date } : undefined;
}

const SAFE = { status: "safe", avScan: { virusFound: false, virusNames: null }, pickleImportScan: null };

/** The Hub's JSON for a tree entry; `expand` adds `lastCommit` and `securityFileStatus`. */
export function describeItem(repo: Repo, commit: CommitRecord, item: TreeItem, expand: boolean): Record<string, unknown> {
  if (item.type === "directory") {
    const inside = Object.values(commit.files).filter((f) => f.path.startsWith(`${item.path}/`));
    const latest = inside.map((f) => repo.commits.get(f.lastCommit)).sort((a, b) => ((a?.date ?? "") < (b?.date ?? "") ? 1 : -1))[0];
    return { type: "directory", oid: commit.trees[item.path] ?? "", size: 0, path: item.path, ...(expand && latest ? { lastCommit: lastCommitOf(repo, latest.oid) } : {}) };
  }
  const entry = commit.files[item.path];
  if (!entry) throw new Error(`No file ${item.path} in commit ${commit.oid}`);
  return {
    type: "file",
    oid: entry.oid,
    size: entry.size,
    path: entry.path,
    ...(entry.lfs ? { lfs: { oid: entry.sha256, size: entry.size, pointerSize: lfsPointer(entry.sha256, entry.size).length } } : {}),
    ...(expand ? { lastCommit: lastCommitOf(repo, entry.lastCommit), securityFileStatus: SAFE } : {}),
  };
}
