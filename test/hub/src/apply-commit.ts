import { readFile, stat } from "node:fs/promises";
import { commitOid, gitOid, lfsPointer, treeOids } from "./git-objects.js";
import { isLfsTracked } from "./git-patterns.js";
import { HubError, badRequest, entryNotFound, revisionNotFound } from "./hub-error.js";
import type { ObjectStore } from "./object-store.js";
import type { CommitRecord, FileEntry, PullRequest, Repo, RepoStore } from "./repo-store.js";

/** One line of the commit NDJSON, with inline content already stored. */
export type CommitOperation =
  | { key: "file"; path: string; sha256: string; gitOid: string; size: number }
  | { key: "lfsFile"; path: string; sha256: string; size?: number }
  | { key: "deletedFile"; path: string }
  | { key: "deletedFolder"; path: string };

export interface CommitRequest {
  repo: Repo;
  /** The revision from the URL, decoded: a branch, or `refs/pr/N`; with `createPr`, the base branch. */
  rev: string;
  createPr: boolean;
  parentCommit?: string;
  title: string;
  description: string;
  author: string;
  operations: CommitOperation[];
  /** The repo's first commit (`repos/create`): no parent, on "main". */
  initial?: boolean;
}

export interface CommitResult {
  commit: CommitRecord;
  pr?: PullRequest;
}

/** Where a commit goes and on top of what: checked before anything changes. */
function target(store: RepoStore, req: CommitRequest): { parent?: CommitRecord; branch?: string; pr?: PullRequest } {
  if (req.initial) return { branch: "main" };
  const resolved = store.resolve(req.repo, req.rev);
  if (!resolved || resolved.kind === "tag" || resolved.kind === "commit") throw revisionNotFound(req.rev);
  const head = resolved.commit;
  if (req.createPr) {
    const parent = req.parentCommit ? store.resolve(req.repo, req.parentCommit)?.commit : head;
    if (!parent) throw badRequest(`Invalid parentCommit: ${req.parentCommit ?? ""}`);
    return { parent };
  }
  if (req.parentCommit && req.parentCommit !== head.oid) {
    throw new HubError({ status: 412, message: "A commit has happened since. Please refresh and try again." });
  }
  if (resolved.kind === "pr") return { parent: head, pr: resolved.pr };
  if (resolved.kind === "branch") return { parent: head, branch: resolved.name };
  throw revisionNotFound(req.rev);
}

function checkPath(path: string): void {
  const parts = path.split("/");
  if (!path || path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..") || parts[0] === ".git") {
    throw badRequest(`Invalid path: "${path}"`);
  }
}

/** The new tree: every operation applied in order; missing LFS objects are collected and reported together. */
async function buildFiles(objects: ObjectStore, req: CommitRequest, parent: CommitRecord | undefined): Promise<{ files: Record<string, FileEntry>; changed: Set<string> }> {
  const files: Record<string, FileEntry> = { ...parent?.files };
  const changed = new Set<string>();
  const missing: string[] = [];
  for (const op of req.operations) {
    checkPath(op.path);
    if (op.key === "deletedFile") {
      if (!files[op.path]) throw entryNotFound();
      delete files[op.path];
    } else if (op.key === "deletedFolder") {
      const inside = Object.keys(files).filter((p) => p.startsWith(`${op.path.replace(/\/$/, "")}/`));
      if (inside.length === 0) throw entryNotFound();
      for (const p of inside) delete files[p];
    } else if (op.key === "lfsFile") {
      const stored = req.repo.lfs.has(op.sha256) ? await stat(objects.pathOf(op.sha256)).catch(() => undefined) : undefined;
      if (!stored) {
        missing.push(op.path);
        continue;
      }
      if (op.size !== undefined && op.size !== stored.size) throw badRequest(`LFS file ${op.path}: size ${op.size} does not match the uploaded object (${stored.size} bytes)`);
      const pointer = lfsPointer(op.sha256, stored.size);
      files[op.path] = { path: op.path, size: stored.size, oid: gitOid("blob", pointer), sha256: op.sha256, lfs: true, lastCommit: "" };
      changed.add(op.path);
    } else {
      files[op.path] = { path: op.path, size: op.size, oid: op.gitOid, sha256: op.sha256, lfs: false, lastCommit: "" };
      changed.add(op.path);
    }
  }
  if (missing.length > 0) {
    throw badRequest(
      `Your push was rejected because an LFS pointer pointed to a file that does not exist. For instance, this can happen if you used git push --no-verify to push your changes. Offending file: ${missing.map((p) => `- ${p}`).join(" ")}`,
    );
  }
  const paths = Object.keys(files).sort();
  for (let i = 1; i < paths.length; i++) {
    const previous = paths[i - 1] ?? "";
    if ((paths[i] ?? "").startsWith(`${previous}/`)) throw badRequest(`Invalid path: "${previous}" is a file and cannot be a folder`);
  }
  return { files, changed };
}

/** Inline files that the new `.gitattributes` puts in LFS become LFS files, as the Hub does on commit. */
async function applyLfsAttributes(objects: ObjectStore, req: CommitRequest, files: Record<string, FileEntry>): Promise<void> {
  const attributes = files[".gitattributes"];
  if (!attributes) return;
  const text = await readFile(objects.pathOf(attributes.sha256), "utf8");
  for (const op of req.operations) {
    const entry = files[op.path];
    if (op.key !== "file" || op.path === ".gitattributes" || !entry || !isLfsTracked(text, op.path)) continue;
    files[op.path] = { ...entry, lfs: true, oid: gitOid("blob", lfsPointer(entry.sha256, entry.size)) };
  }
}

/** A commit on a branch or pull request, or a new pull request: all or nothing, and one at a time per repo. */
export async function applyCommit(store: RepoStore, objects: ObjectStore, req: CommitRequest): Promise<CommitResult> {
  return store.withLock(req.repo.record.name, async () => {
    const { parent, branch, pr } = target(store, req);
    const { files, changed } = await buildFiles(objects, req, parent);
    await applyLfsAttributes(objects, req, files);
    const trees = treeOids(new Map(Object.values(files).map((f) => [f.path, f.oid])));
    const date = new Date();
    const message = req.description ? `${req.title}\n\n${req.description}` : req.title;
    const parents = parent ? [parent.oid] : [];
    const oid = commitOid({ tree: trees.get("") ?? "", parents, author: req.author, date, message });
    for (const path of changed) {
      const entry = files[path];
      if (entry) files[path] = { ...entry, lastCommit: oid };
    }
    const commit: CommitRecord = { oid, parents, trees: Object.fromEntries(trees), title: req.title, description: req.description, author: req.author, date: date.toISOString(), files };
    const { record, lfs } = req.repo;
    const before = JSON.stringify(record);
    const lfsBefore = new Set(lfs);
    let newPr: PullRequest | undefined;
    if (branch) record.branches[branch] = oid;
    else if (pr) pr.head = oid;
    else {
      newPr = { num: ++record.lastDiscussion, head: oid, title: req.title, author: req.author };
      record.pullRequests.push(newPr);
    }
    for (const entry of Object.values(files)) if (entry.lfs) lfs.add(entry.sha256);
    record.lastModified = commit.date;
    try {
      await store.save(req.repo, commit);
    } catch (error) {
      // Nothing moved: put the record back as it was.
      Object.assign(record, JSON.parse(before) as typeof record);
      lfs.clear();
      for (const sha of lfsBefore) lfs.add(sha);
      req.repo.commits.delete(oid);
      throw error;
    }
    return newPr ? { commit, pr: newPr } : { commit };
  });
}
