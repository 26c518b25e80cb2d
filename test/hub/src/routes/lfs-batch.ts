import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Call, Route } from "../context.js";
import { readableRepo, writableRepo } from "../context.js";
import { badRequest } from "../hub-error.js";
import { isObject, readJson } from "../read-body.js";
import type { Repo } from "../repo-store.js";
import { sendJson } from "../reply.js";
import { cdnUrl } from "./cdn.js";

const LFS_JSON = { "Content-Type": "application/vnd.git-lfs+json" };

interface LfsObject {
  oid: string;
  size: number;
}

function expiresAt(): string {
  return new Date(Date.now() + 3600_000).toISOString();
}

/** Upload instructions for one object: one presigned PUT, or the Hub's multipart variant (part URLs in `header`). */
function uploadAction(call: Call, repo: Repo, object: LfsObject): Record<string, unknown> {
  const { hub } = call;
  const name = repo.record.name;
  const threshold = repo.record.multipartThreshold ?? hub.multipart.threshold;
  if (object.size < threshold) {
    const href = `${hub.baseUrl}/_lfs/upload/${encodeURIComponent(name)}/${object.oid}/${object.size}?${hub.signer.sign(["upload", name, object.oid, String(object.size)])}`;
    return { href, expires_at: expiresAt() };
  }
  const id = randomBytes(12).toString("hex");
  const { chunkSize } = hub.multipart;
  const count = Math.ceil(object.size / chunkSize);
  hub.uploads.set(id, { repo: name, oid: object.oid, size: object.size, chunkSize, dir: join(hub.objects.root, "multipart", id), etags: new Map() });
  const header: Record<string, string> = { chunk_size: String(chunkSize) };
  for (let part = 1; part <= count; part++) {
    header[String(part).padStart(5, "0")] = `${hub.baseUrl}/_lfs/multipart/${id}/${part}?${hub.signer.sign(["part", id, String(part)])}`;
  }
  return { href: `${hub.baseUrl}/_lfs/multipart/${id}/complete?${hub.signer.sign(["complete", id])}`, header, expires_at: expiresAt() };
}

async function stored(call: Call, repo: Repo, object: LfsObject): Promise<boolean> {
  if (!repo.lfs.has(object.oid)) return false;
  const file = await stat(call.hub.objects.pathOf(object.oid)).catch(() => undefined);
  return file?.size === object.size;
}

/** The git-lfs batch API: always the "basic" transfer (never "xet"); stored objects get no actions, so clients skip them. */
async function batch(call: Call): Promise<void> {
  const name = `${call.params[0] ?? ""}/${call.params[1] ?? ""}`;
  const body = await readJson(call.req);
  if (!isObject(body) || (body.operation !== "upload" && body.operation !== "download") || !Array.isArray(body.objects)) {
    throw badRequest('Expected { operation: "upload" | "download", objects: [{ oid, size }] }');
  }
  const upload = body.operation === "upload";
  call.setWrite(upload);
  const repo = upload ? writableRepo(call, name) : readableRepo(call, name);
  const verify = { href: `${call.hub.baseUrl}/${name}.git/info/lfs/objects/verify`, expires_at: expiresAt() };
  const objects = [];
  for (const raw of body.objects as unknown[]) {
    const object = isObject(raw) ? { oid: String(raw.oid), size: Number(raw.size) } : { oid: "", size: -1 };
    if (!/^[0-9a-f]{64}$/.test(object.oid) || !Number.isInteger(object.size) || object.size < 0) {
      objects.push({ ...object, error: { code: 422, message: "Invalid object: oid must be a sha256 (64 hex) and size a non-negative integer" } });
    } else if (await stored(call, repo, object)) {
      objects.push(upload ? object : { ...object, authenticated: true, actions: { download: { href: cdnUrl(call.hub, object.oid, ""), expires_at: expiresAt() } } });
    } else if (!upload) {
      objects.push({ ...object, error: { code: 404, message: "Object does not exist" } });
    } else {
      objects.push({ ...object, authenticated: true, actions: { upload: uploadAction(call, repo, object), verify } });
    }
  }
  sendJson(call.res, 200, { transfer: "basic", objects, hash_algo: "sha256" }, LFS_JSON);
}

/** `verify` (the Python client calls it after an upload; the JS client does not): is the object stored, at that size? */
async function verifyObject(call: Call): Promise<void> {
  const repo = readableRepo(call, `${call.params[0] ?? ""}/${call.params[1] ?? ""}`);
  const body = await readJson(call.req);
  if (!isObject(body)) throw badRequest("Expected { oid, size }");
  const object = { oid: String(body.oid), size: Number(body.size) };
  if (!(await stored(call, repo, object))) {
    sendJson(call.res, 404, { error: `Object ${object.oid} of ${object.size} bytes was not uploaded to ${repo.record.name}` }, LFS_JSON);
    return;
  }
  sendJson(call.res, 200, {}, LFS_JSON);
}

const LFS_PATH = "/([^/]+)/([^/]+?)\\.git/info/lfs/objects";

export const lfsBatchRoutes: Route[] = [
  { methods: ["POST"], pattern: new RegExp(`^${LFS_PATH}/batch$`), write: true, handle: batch },
  { methods: ["POST"], pattern: new RegExp(`^${LFS_PATH}/verify$`), write: false, handle: verifyObject },
];
