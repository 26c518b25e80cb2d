import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Call, MultipartUpload, Route } from "../context.js";
import { HubError, badRequest } from "../hub-error.js";
import { isObject, readJson } from "../read-body.js";
import { sendJson, canReply } from "../reply.js";

function denied(): HubError {
  return new HubError({ status: 403, message: "AccessDenied: the URL has expired or its signature does not match", text: true });
}

/** Records a verified object as uploaded to its repo (git-lfs storage is per repo), on disk too. */
async function registerObject(call: Call, repoName: string, oid: string): Promise<void> {
  const repo = call.hub.repos.get(repoName);
  if (!repo) throw new HubError({ status: 404, message: "Repository not found", code: "RepoNotFound" });
  await call.hub.repos.withLock(repoName, async () => {
    repo.lfs.add(oid);
    await call.hub.repos.save(repo);
  });
}

function mismatch(expected: { oid: string; size: number }, got: { sha256: string; size: number }): HubError | undefined {
  if (got.size !== expected.size) return badRequest(`Size mismatch: expected ${expected.size} bytes, received ${got.size}`);
  if (got.sha256 !== expected.oid) return badRequest(`sha256 mismatch: expected ${expected.oid}, received ${got.sha256}`);
  return undefined;
}

function ok(call: Call, etag: string): void {
  if (!canReply(call.res)) return;
  call.res.writeHead(200, { ETag: etag, "Content-Length": 0 });
  call.res.end();
}

/** A basic transfer: the body is streamed to disk, then checked against the oid and size the URL was signed for. */
async function putObject(call: Call): Promise<void> {
  const [repoName = "", oid = "", sizeText = ""] = call.params;
  if (!call.hub.signer.verify(["upload", repoName, oid, sizeText], call.url.searchParams)) throw denied();
  const size = Number(sizeText);
  const declared = call.req.headers["content-length"];
  if (declared !== undefined && Number(declared) !== size) throw badRequest(`Content-Length ${declared} does not match the object size ${size}`);
  const received = await call.hub.objects.receive(call.req, await call.hub.objects.tempPath("put"));
  const problem = mismatch({ oid, size }, received);
  if (problem) {
    await rm(received.path, { force: true });
    throw problem;
  }
  await call.hub.objects.adopt(received.path, oid);
  await registerObject(call, repoName, oid);
  ok(call, `"${received.md5}"`);
}

function uploadOf(call: Call, facts: string[]): MultipartUpload {
  if (!call.hub.signer.verify(facts, call.url.searchParams)) throw denied();
  const upload = call.hub.uploads.get(call.params[0] ?? "");
  if (!upload) throw new HubError({ status: 404, message: "NoSuchUpload: the upload does not exist or was completed", text: true });
  return upload;
}

/** One part of a multipart upload: it must have the size the chunking implies; its ETag is the md5, as S3's. */
async function putPart(call: Call): Promise<void> {
  const [id = "", partText = ""] = call.params;
  const upload = uploadOf(call, ["part", id, partText]);
  const part = Number(partText);
  const count = Math.ceil(upload.size / upload.chunkSize);
  const expected = part < count ? upload.chunkSize : upload.size - (count - 1) * upload.chunkSize;
  await mkdir(upload.dir, { recursive: true });
  const received = await call.hub.objects.receive(call.req, join(upload.dir, String(part)));
  if (received.size !== expected) {
    await rm(received.path, { force: true });
    throw badRequest(`Part ${part} has ${received.size} bytes, expected ${expected}`);
  }
  const etag = `"${received.md5}"`;
  upload.etags.set(part, etag);
  ok(call, etag);
}

const bareEtag = (etag: string) => etag.replace(/^W\//, "").replace(/"/g, "");

/** Completion: every part present with the ETag its PUT answered; the assembled object must hash to the oid. */
async function completeMultipart(call: Call): Promise<void> {
  const id = call.params[0] ?? "";
  const upload = uploadOf(call, ["complete", id]);
  const body = await readJson(call.req);
  if (!isObject(body) || body.oid !== upload.oid || !Array.isArray(body.parts)) throw badRequest(`Expected { oid: "${upload.oid}", parts: [{ partNumber, etag }] }`);
  const count = Math.ceil(upload.size / upload.chunkSize);
  const parts = (body.parts as unknown[]).map((p) => (isObject(p) ? { partNumber: Number(p.partNumber), etag: String(p.etag) } : { partNumber: 0, etag: "" }));
  if (parts.length !== count) throw badRequest(`InvalidPart: expected ${count} parts, got ${parts.length}`);
  parts.forEach((p, i) => {
    const stored = upload.etags.get(p.partNumber);
    if (p.partNumber !== i + 1 || !stored || bareEtag(stored) !== bareEtag(p.etag)) throw badRequest(`InvalidPart: part ${i + 1} is missing or its ETag does not match`);
  });
  const source = (async function* () {
    for (let part = 1; part <= count; part++) yield* createReadStream(join(upload.dir, String(part))) as AsyncIterable<Buffer>;
  })();
  const received = await call.hub.objects.receive(source, await call.hub.objects.tempPath("multipart"));
  const problem = mismatch(upload, received);
  if (problem) {
    await rm(received.path, { force: true });
    throw problem;
  }
  await call.hub.objects.adopt(received.path, upload.oid);
  await registerObject(call, upload.repo, upload.oid);
  call.hub.uploads.delete(id);
  await rm(upload.dir, { recursive: true, force: true });
  sendJson(call.res, 200, { success: true });
}

export const lfsUploadRoutes: Route[] = [
  { methods: ["PUT"], pattern: /^\/_lfs\/upload\/([^/]+)\/([0-9a-f]{64})\/(\d+)$/, write: true, signed: true, handle: putObject },
  { methods: ["PUT"], pattern: /^\/_lfs\/multipart\/([0-9a-f]+)\/(\d+)$/, write: true, signed: true, handle: putPart },
  { methods: ["POST"], pattern: /^\/_lfs\/multipart\/([0-9a-f]+)\/complete$/, write: true, signed: true, handle: completeMultipart },
];
