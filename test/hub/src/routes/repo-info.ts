import type { Call, Route } from "../context.js";
import { readableRepo } from "../context.js";
import { lfsPointer } from "../git-objects.js";
import { revisionNotFound } from "../hub-error.js";
import { truthy } from "../read-body.js";
import type { CommitRecord, Repo } from "../repo-store.js";
import { sendJson } from "../reply.js";

const repoPath = "/api/models/([^/]+)/([^/]+)";

function repoName(call: Call): string {
  return `${call.params[0] ?? ""}/${call.params[1] ?? ""}`;
}

function modelInfo(repo: Repo, commit: CommitRecord, query: URLSearchParams): Record<string, unknown> {
  const { record } = repo;
  const files = Object.values(commit.files).sort((a, b) => (a.path < b.path ? -1 : 1));
  const withBlobs = truthy(query.get("blobs"));
  const info: Record<string, unknown> = {
    _id: record.id,
    id: record.name,
    modelId: record.name,
    author: record.name.split("/")[0],
    sha: commit.oid,
    lastModified: commit.date,
    createdAt: record.createdAt,
    private: record.private,
    disabled: false,
    gated: false,
    downloads: 0,
    likes: 0,
    tags: [],
    siblings: files.map((f) =>
      withBlobs
        ? { rfilename: f.path, size: f.size, blobId: f.oid, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: lfsPointer(f.sha256, f.size).length } } : {}) }
        : { rfilename: f.path },
    ),
    spaces: [],
    usedStorage: files.reduce((sum, f) => sum + f.size, 0),
  };
  // `expand[]=x` narrows the answer to those fields (and the ids), as on the Hub.
  const expand = query.getAll("expand[]").concat(query.getAll("expand"));
  return expand.length === 0 ? info : Object.fromEntries(Object.entries(info).filter(([key]) => key === "_id" || key === "id" || expand.includes(key)));
}

async function getModel(call: Call): Promise<void> {
  const repo = readableRepo(call, repoName(call));
  const rev = call.params[2] ?? "main";
  const resolved = call.hub.repos.resolve(repo, rev);
  if (!resolved) throw revisionNotFound(rev);
  sendJson(call.res, 200, modelInfo(repo, resolved.commit, call.url.searchParams));
}

async function getRefs(call: Call): Promise<void> {
  const { record } = readableRepo(call, repoName(call));
  const refs: Record<string, unknown> = {
    branches: Object.entries(record.branches).map(([name, targetCommit]) => ({ name, ref: `refs/heads/${name}`, targetCommit })),
    converts: [],
    tags: Object.entries(record.tags).map(([name, targetCommit]) => ({ name, ref: `refs/tags/${name}`, targetCommit })),
  };
  if (truthy(call.url.searchParams.get("include_prs"))) {
    refs.pullRequests = record.pullRequests.map((pr) => ({ name: `refs/pr/${pr.num}`, ref: `refs/pr/${pr.num}`, targetCommit: pr.head }));
  }
  sendJson(call.res, 200, refs);
}

export const repoInfoRoutes: Route[] = [
  { methods: ["GET"], pattern: new RegExp(`^${repoPath}$`), write: false, handle: getModel },
  { methods: ["GET"], pattern: new RegExp(`^${repoPath}/revision/(.+)$`), write: false, handle: getModel },
  { methods: ["GET"], pattern: new RegExp(`^${repoPath}/refs$`), write: false, handle: getRefs },
];
