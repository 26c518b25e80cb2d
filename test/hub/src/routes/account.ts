import { createHash } from "node:crypto";
import { applyCommit } from "../apply-commit.js";
import type { CommitOperation } from "../apply-commit.js";
import type { Call, Route } from "../context.js";
import { ownsNamespace } from "../context.js";
import { DEFAULT_GITATTRIBUTES } from "../git-patterns.js";
import { HubError, badRequest, forbidden, invalidCredentials } from "../hub-error.js";
import { inlineFile } from "../inline-file.js";
import { isObject, readJson } from "../read-body.js";
import { sendJson } from "../reply.js";

/** A stable 24-hex id per name, in the shape of the Hub's Mongo ids. */
function idOf(name: string): string {
  return createHash("sha1").update(name).digest("hex").slice(0, 24);
}

async function whoami(call: Call): Promise<void> {
  const { caller } = call;
  if (!caller) throw invalidCredentials();
  sendJson(call.res, 200, {
    type: "user",
    id: idOf(caller.user),
    name: caller.user,
    fullname: caller.user,
    email: `${caller.user}@users.noreply.huggingface.co`,
    emailVerified: true,
    canPay: false,
    periodEnd: null,
    isPro: false,
    avatarUrl: "",
    orgs: (caller.orgs ?? []).map((org) => ({ type: "org", id: idOf(org), name: org, fullname: org, avatarUrl: "", roleInOrg: caller.role === "write" ? "write" : "read", isEnterprise: false })),
    auth: { type: "access_token", accessToken: { displayName: `${caller.user}-${caller.role}`, role: caller.role, createdAt: "2024-01-01T00:00:00.000Z" } },
  });
}

/** The Hub's rules for a repo name: letters, digits, "-", "_", "."; no "--" or ".."; not starting or ending with "-" or "."; at most 96. */
function checkRepoName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,96}$/.test(name) || /--|\.\./.test(name) || /^[-.]|[-.]$/.test(name) || name.endsWith(".git")) {
    throw badRequest(`Invalid repo name "${name}": use letters, digits, "-", "_" and "." (no "--" or "..", not at the start or end), at most 96 characters`);
  }
}

async function initialFiles(call: Call, files: unknown): Promise<CommitOperation[]> {
  const ops = [await inlineFile(call.hub.objects, ".gitattributes", Buffer.from(DEFAULT_GITATTRIBUTES))];
  if (!Array.isArray(files)) return ops;
  for (const file of files as unknown[]) {
    if (!isObject(file) || typeof file.path !== "string" || typeof file.content !== "string") throw badRequest("Invalid files: each needs a path and base64 content");
    ops.push(await inlineFile(call.hub.objects, file.path, Buffer.from(file.content, file.encoding === "utf-8" ? "utf8" : "base64")));
  }
  return ops;
}

async function createRepo(call: Call): Promise<void> {
  const { caller } = call;
  const body = await readJson(call.req);
  if (!caller) throw new HubError({ status: 401, message: "Invalid username or password." });
  if (!isObject(body) || typeof body.name !== "string") throw badRequest("Missing repo name");
  if (body.type !== undefined && body.type !== "model") throw badRequest(`This local Hub only hosts model repos, not "${String(body.type)}"`);
  const [namespace, name] = body.name.includes("/") ? body.name.split("/", 2) : [typeof body.organization === "string" ? body.organization : caller.user, body.name];
  if (!namespace || !name) throw badRequest(`Invalid repo name "${body.name}"`);
  if (caller.role !== "write" || !ownsNamespace(caller, namespace)) throw forbidden(`You don't have the rights to create a model under the namespace "${namespace}"`);
  checkRepoName(name);
  const id = `${namespace}/${name}`;
  const url = `${call.hub.baseUrl}/${id}`;
  const ops = await initialFiles(call, body.files);
  const threshold = Number(body.lfsmultipartthresh);
  const created = await call.hub.repos.withLock(id, async () => {
    if (call.hub.repos.get(id)) return false;
    call.hub.repos.add({ name: id, private: body.visibility === "private" || body.private === true, ...(threshold > 0 ? { multipartThreshold: threshold } : {}) });
    return true;
  });
  if (!created) {
    sendJson(call.res, 409, { error: "You already created this model repo", url });
    return;
  }
  const repo = call.hub.repos.get(id);
  if (repo) await applyCommit(call.hub.repos, call.hub.objects, { repo, rev: "main", createPr: false, title: "initial commit", description: "", author: caller.user, operations: ops, initial: true });
  sendJson(call.res, 200, { url, name: id, id: repo?.record.id });
}

export const accountRoutes: Route[] = [
  { methods: ["GET"], pattern: /^\/api\/whoami-v2$/, write: false, handle: whoami },
  { methods: ["POST"], pattern: /^\/api\/repos\/create$/, write: true, handle: createRepo },
];
