import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One file of a commit's tree. */
export interface FileEntry {
  path: string;
  size: number;
  /** Git blob oid: of the content, or of the LFS pointer for LFS files (as the Hub reports it). */
  oid: string;
  sha256: string;
  lfs: boolean;
  /** The commit that last set this path (the Hub's `lastCommit` with `expand`). */
  lastCommit: string;
}

export interface CommitRecord {
  oid: string;
  parents: string[];
  /** Git tree oids by directory ("" is the root). */
  trees: Record<string, string>;
  title: string;
  description: string;
  author: string;
  date: string;
  files: Record<string, FileEntry>;
}

export interface PullRequest {
  num: number;
  head: string;
  title: string;
  author: string;
}

export interface RepoRecord {
  /** The Hub's 24-hex `_id`. */
  id: string;
  /** "namespace/name". */
  name: string;
  private: boolean;
  createdAt: string;
  lastModified: string;
  branches: Record<string, string>;
  tags: Record<string, string>;
  pullRequests: PullRequest[];
  /** Discussions and pull requests share one numbering on the Hub. */
  lastDiscussion: number;
  /** LFS objects uploaded to this repo (git-lfs storage is per repo). */
  lfsObjects: string[];
  multipartThreshold?: number;
}

export interface Repo {
  record: RepoRecord;
  commits: Map<string, CommitRecord>;
  lfs: Set<string>;
}

/** What a revision names: a branch (or HEAD), a pull request ref, a tag, or a commit (full id or a prefix of 7+). */
export type ResolvedRev = { commit: CommitRecord } & ({ kind: "branch"; name: string } | { kind: "pr"; pr: PullRequest } | { kind: "tag" | "commit" });

/** Repos with their commits, kept in memory and written to `repos/` as JSON (so a restarted Hub on the same dir finds them). */
export class RepoStore {
  private readonly root: string;
  private readonly repos = new Map<string, Repo>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(root: string) {
    this.root = join(root, "repos");
  }

  async load(): Promise<void> {
    for (const ns of await readdir(this.root).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, ns))) {
        const dir = join(this.root, ns, name);
        const record = JSON.parse(await readFile(join(dir, "repo.json"), "utf8")) as RepoRecord;
        const commits = new Map<string, CommitRecord>();
        for (const file of await readdir(join(dir, "commits"))) {
          const commit = JSON.parse(await readFile(join(dir, "commits", file), "utf8")) as CommitRecord;
          commits.set(commit.oid, commit);
        }
        this.repos.set(record.name, { record, commits, lfs: new Set(record.lfsObjects) });
      }
    }
  }

  get(name: string): Repo | undefined {
    return this.repos.get(name);
  }

  /** By name, ignoring case when there is no exact match: the Hub takes a repo id in any case. */
  find(name: string): Repo | undefined {
    const lower = name.toLowerCase();
    return this.repos.get(name) ?? [...this.repos.values()].find((repo) => repo.record.name.toLowerCase() === lower);
  }

  /** Registers a new repo in memory; `save` with its first commit makes it real. */
  add(params: { name: string; private: boolean; multipartThreshold?: number }): Repo {
    const now = new Date().toISOString();
    const record: RepoRecord = {
      id: randomBytes(12).toString("hex"),
      name: params.name,
      private: params.private,
      createdAt: now,
      lastModified: now,
      branches: {},
      tags: {},
      pullRequests: [],
      lastDiscussion: 0,
      lfsObjects: [],
      ...(params.multipartThreshold ? { multipartThreshold: params.multipartThreshold } : {}),
    };
    const repo: Repo = { record, commits: new Map(), lfs: new Set() };
    this.repos.set(params.name, repo);
    return repo;
  }

  /** Runs `task` alone for this repo: commits and ref updates never interleave. */
  async withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    this.locks.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }

  resolve(repo: Repo, rev: string): ResolvedRev | undefined {
    const { record, commits } = repo;
    const at = (oid: string | undefined) => (oid ? commits.get(oid) : undefined);
    const pr = /^refs\/pr\/(\d+)$/.exec(rev);
    if (pr) {
      const found = record.pullRequests.find((p) => p.num === Number(pr[1]));
      const commit = at(found?.head);
      return found && commit ? { kind: "pr", pr: found, commit } : undefined;
    }
    // "HEAD" is the default branch (the JS client's modelInfo asks for revision/HEAD).
    const branch = rev === "HEAD" ? "main" : rev.replace(/^refs\/heads\//, "");
    const onBranch = at(record.branches[branch]);
    if (onBranch) return { kind: "branch", name: branch, commit: onBranch };
    const onTag = at(record.tags[rev.replace(/^refs\/tags\//, "")]);
    if (onTag) return { kind: "tag", commit: onTag };
    if (/^[0-9a-f]{7,40}$/.test(rev)) {
      const matches = [...commits.keys()].filter((oid) => oid.startsWith(rev));
      const commit = matches.length === 1 ? at(matches[0]) : undefined;
      if (commit) return { kind: "commit", commit };
    }
    return undefined;
  }

  /** Writes the commit, then the repo record (atomically, by rename): the ref moves only once the commit is on disk. */
  async save(repo: Repo, commit?: CommitRecord): Promise<void> {
    const dir = join(this.root, ...repo.record.name.split("/"));
    await mkdir(join(dir, "commits"), { recursive: true });
    if (commit) {
      repo.commits.set(commit.oid, commit);
      await writeFile(join(dir, "commits", `${commit.oid}.json`), JSON.stringify(commit));
    }
    repo.record.lfsObjects = [...repo.lfs];
    const temp = join(dir, `repo.json.${randomBytes(4).toString("hex")}`);
    await writeFile(temp, JSON.stringify(repo.record, null, 1));
    await rename(temp, join(dir, "repo.json"));
  }
}
