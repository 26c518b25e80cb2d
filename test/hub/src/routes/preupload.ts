import { readFile } from "node:fs/promises";
import type { Call, Route } from "../context.js";
import { writableRepo } from "../context.js";
import { isIgnored } from "../git-patterns.js";
import { badRequest } from "../hub-error.js";
import { isObject, readJson } from "../read-body.js";
import type { CommitRecord } from "../repo-store.js";
import { REPO, REV, repoAtRev } from "../repo-paths.js";
import { sendJson } from "../reply.js";
import { uploadMode } from "../upload-mode.js";

async function repoText(call: Call, commit: CommitRecord, path: string): Promise<string> {
  const entry = commit.files[path];
  return entry ? readFile(call.hub.objects.pathOf(entry.sha256), "utf8") : "";
}

/** `preupload`: for each file, "lfs" or "regular", whether `.gitignore` drops it, and the remote oid when it exists. */
async function preupload(call: Call): Promise<void> {
  const { name, at } = repoAtRev(call);
  writableRepo(call, name);
  const body = await readJson(call.req);
  if (!isObject(body) || !Array.isArray(body.files)) throw badRequest("Expected { files: [{ path, size, sample }] }");
  // The commit may bring its own .gitattributes/.gitignore: the clients send them along, and they win.
  const gitattributes = typeof body.gitAttributes === "string" ? body.gitAttributes : await repoText(call, at.commit, ".gitattributes");
  const gitignore = typeof body.gitIgnore === "string" ? body.gitIgnore : await repoText(call, at.commit, ".gitignore");
  const files = (body.files as unknown[]).map((file) => {
    if (!isObject(file) || typeof file.path !== "string" || typeof file.size !== "number" || typeof file.sample !== "string") {
      throw badRequest("Each file needs a path, a size and a base64 sample");
    }
    const mode = uploadMode({ path: file.path, size: file.size, sample: Buffer.from(file.sample, "base64"), gitattributes });
    const remote = at.commit.files[file.path];
    // The Python client skips unchanged files by comparing this with its own sha256 (LFS) or git blob oid (regular).
    const oid = remote ? (remote.lfs ? remote.sha256 : remote.oid) : undefined;
    return { path: file.path, uploadMode: mode, shouldIgnore: isIgnored(gitignore, file.path), ...(oid ? { oid } : {}) };
  });
  sendJson(call.res, 200, { files, commitOid: at.commit.oid });
}

export const preuploadRoutes: Route[] = [{ methods: ["POST"], pattern: new RegExp(`^/api/models/${REPO}/preupload/${REV}$`), write: false, handle: preupload }];
