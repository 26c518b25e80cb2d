import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { formatBytes, type StageEvent } from "@gguf-pipeline/core";
import { LocalFileError, PublishError } from "../errors.js";
import { FileBlob } from "../http/file-blob.js";
import { ollamaFetch, ollamaStream, statusError } from "./api.js";
import type { OllamaConnection } from "./api.js";
import type { OllamaCreateRequest, OllamaShowResponse } from "./show.js";

/** The model as /api/show describes it, or undefined when the server has no such model. */
export async function showModel(conn: OllamaConnection, model: string): Promise<OllamaShowResponse | undefined> {
  const what = `reading ${model}`;
  const response = await ollamaFetch(conn, { method: "POST", path: "/api/show", body: { model }, what });
  const text = await response.text();
  if (response.status === 404) return undefined;
  if (!response.ok) throw statusError(conn, what, response.status, text);
  return JSON.parse(text) as OllamaShowResponse;
}

/** Whether the server holds the blob (HEAD /api/blobs/sha256:…). */
export async function blobPresent(conn: OllamaConnection, digest: string): Promise<boolean> {
  const what = `looking for blob ${digest.slice(0, 19)}`;
  const response = await ollamaFetch(conn, { method: "HEAD", path: `/api/blobs/${digest}`, what });
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw statusError(conn, what, response.status, "");
}

/**
 * Streams one file to POST /api/blobs/sha256:… (from disk in 1 MiB reads, with its Content-Length), after checking
 * its size against report.json; Ollama checks the digest itself. Progress every half second.
 */
export async function* uploadBlob(conn: OllamaConnection & { stage: string }, blob: { path: string; label: string; digest: string; bytes: number }): AsyncGenerator<StageEvent, void> {
  const size = await stat(blob.path).then(
    (s) => s.size,
    (error: unknown) => {
      throw new LocalFileError({ file: blob.label, message: `cannot read it (${(error as Error).message})`, cause: error });
    },
  );
  if (size !== blob.bytes) throw new LocalFileError({ file: blob.label, message: `it has ${size} bytes, report.json says ${blob.bytes}` });
  let sent = 0;
  const body = new FileBlob({ file: blob.path, size, label: blob.label, onRead: (n) => (sent += n) });
  const what = `uploading ${blob.label}`;
  let settled = false;
  const request = ollamaFetch(conn, { method: "POST", path: `/api/blobs/${blob.digest}`, what, rawBody: body, headers: { "content-type": "application/octet-stream" } }).finally(() => (settled = true));
  // Caught here, rethrown below by the await: a rejection while we yield progress must not go unhandled.
  request.catch(() => undefined);
  while (!settled) {
    await Promise.race([request.catch(() => undefined), sleep(500)]);
    if (!settled) yield { type: "progress", stage: conn.stage, message: `uploading ${blob.label}: ${formatBytes(sent)} / ${formatBytes(size)}`, ratio: size ? sent / size : 1 };
  }
  const response = await request;
  const text = await response.text();
  if (response.status === 400 && /digest/i.test(text)) throw new LocalFileError({ file: blob.label, message: "its bytes no longer match the sha256 report.json records (Ollama: digest mismatch)" });
  if (!response.ok) throw statusError(conn, what, response.status, text);
}

/** POST /api/create, its status lines as progress; the stream must end in "success". */
export async function* createModel(conn: OllamaConnection & { stage: string }, request: OllamaCreateRequest): AsyncGenerator<StageEvent, void> {
  let last = "";
  try {
    for await (const line of ollamaStream(conn, { method: "POST", path: "/api/create", body: request, what: `creating ${request.model}` })) {
      last = line.status ?? last;
      if (line.status) yield { type: "progress", stage: conn.stage, message: `${request.model}: ${line.status}` };
    }
  } catch (error) {
    // A template Ollama cannot parse is the settings' fault, not the server's (the GGUF's own converts; a recipe's may not).
    if (error instanceof PublishError && /Ollama says "template/.test(error.message)) throw new PublishError({ message: error.message, exitCode: 2, hint: "the TEMPLATE is not a Go template Ollama can parse: fix the file publish.ollama.template names", cause: error });
    throw error;
  }
  if (last !== "success") throw new PublishError({ message: `creating ${request.model}: Ollama's answer ended with "${last}", not "success"`, exitCode: 1, hint: "publish again" });
}

/** POST /api/push (`insecure` for a plain-HTTP registry), its transfers as progress. */
export async function* pushModel(conn: OllamaConnection & { stage: string }, params: { model: string; insecure: boolean }): AsyncGenerator<StageEvent, void> {
  let last = "";
  for await (const line of ollamaStream(conn, { method: "POST", path: "/api/push", body: { model: params.model, insecure: params.insecure }, what: `pushing ${params.model}` })) {
    last = line.status ?? last;
    const ratio = line.total ? (line.completed ?? 0) / line.total : undefined;
    const amount = line.total ? ` ${formatBytes(line.completed ?? 0)} / ${formatBytes(line.total)}` : "";
    if (line.status) yield { type: "progress", stage: conn.stage, message: `${params.model}: ${line.status}${amount}`, ...(ratio !== undefined ? { ratio } : {}) };
  }
  if (last !== "success") throw new PublishError({ message: `pushing ${params.model}: Ollama's answer ended with "${last}", not "success"`, exitCode: 1, hint: "publish again" });
}
