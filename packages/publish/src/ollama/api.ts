import { CanceledError } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";

/**
 * Ollama's HTTP API through plain fetch, not the official `ollama` client: the client has no blob upload (HEAD/POST
 * /api/blobs, the heart of a create from local files), types /api/create without `files` and `adapters`, and needs
 * its own error mapping anyway; one transport for every call keeps the errors, streaming and cancellation in one place.
 */
export interface OllamaConnection {
  /** `http://host:port`, no trailing slash. */
  host: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
}

/** One line of a streamed answer (create, push, pull). */
export interface OllamaStatus {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

export interface OllamaRequest {
  method: "GET" | "HEAD" | "POST" | "DELETE";
  path: string;
  body?: unknown;
  /** What was being done, for messages: "creating tiny:q8_0". */
  what: string;
}

/** A fetch to the server; a network failure becomes one PublishError line (exit 1), an abort a CanceledError. */
export async function ollamaFetch(conn: OllamaConnection, request: OllamaRequest & { rawBody?: Blob; headers?: Record<string, string> }): Promise<Response> {
  const json = request.body !== undefined;
  try {
    return await conn.fetch(`${conn.host}${request.path}`, {
      method: request.method,
      ...(json ? { body: JSON.stringify(request.body), headers: { "content-type": "application/json" } } : {}),
      ...(request.rawBody ? { body: request.rawBody, headers: request.headers ?? {} } : {}),
      ...(conn.signal ? { signal: conn.signal } : {}),
    });
  } catch (error) {
    if (conn.signal?.aborted) throw new CanceledError();
    throw new PublishError({ message: `${request.what}: cannot reach the Ollama server at ${conn.host} (${networkReason(error)})`, exitCode: 1, hint: "check that `ollama serve` is running there, then publish again", cause: error });
  }
}

/** A JSON call; a non-2xx answer becomes one PublishError line with the server's own words. */
export async function ollamaJson<T>(conn: OllamaConnection, request: OllamaRequest): Promise<T> {
  const response = await ollamaFetch(conn, { ...request, body: request.body === undefined ? undefined : { ...(request.body as object), stream: false } });
  const text = await readText(conn, response);
  if (!response.ok) throw statusError(conn, request.what, response.status, text);
  return (text ? JSON.parse(text) : {}) as T;
}

/**
 * A streamed call (NDJSON status lines). Ollama answers HTTP 200 and then reports a failure as an `{"error": …}` line:
 * that line is the failure it is, not a status.
 */
export async function* ollamaStream(conn: OllamaConnection, request: OllamaRequest): AsyncGenerator<OllamaStatus, void> {
  const response = await ollamaFetch(conn, { ...request, body: { ...(request.body as object), stream: true } });
  if (!response.ok || !response.body) throw statusError(conn, request.what, response.status, await readText(conn, response));
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) yield parseStatus(conn, request.what, line);
    }
  } catch (error) {
    if (error instanceof PublishError) throw error;
    if (conn.signal?.aborted) throw new CanceledError();
    throw new PublishError({ message: `${request.what}: the Ollama server at ${conn.host} broke off its answer (${networkReason(error)})`, exitCode: 1, hint: "publish again", cause: error });
  }
  if (pending.trim()) yield parseStatus(conn, request.what, pending);
}

function parseStatus(conn: OllamaConnection, what: string, line: string): OllamaStatus {
  let status: OllamaStatus;
  try {
    status = JSON.parse(line) as OllamaStatus;
  } catch {
    throw new PublishError({ message: `${what}: the server at ${conn.host} answered with a line that is not JSON: ${line.slice(0, 120)}`, exitCode: 1, hint: "is it an Ollama server?" });
  }
  if (status.error) throw new PublishError({ message: `${what}: Ollama says "${status.error}"`, exitCode: 1, hint: `the server's log at ${conn.host} has the details` });
  return status;
}

async function readText(conn: OllamaConnection, response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (conn.signal?.aborted) throw new CanceledError();
    throw new PublishError({ message: `the Ollama server at ${conn.host} broke off its answer (${networkReason(error)})`, exitCode: 1, hint: "publish again", cause: error });
  }
}

/** A non-2xx answer as one line, with the `error` Ollama puts in its JSON body when there is one. */
export function statusError(conn: OllamaConnection, what: string, status: number, body: string): PublishError {
  let said = body.trim().slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") said = parsed.error;
  } catch {
    // Not JSON: the text as it came.
  }
  return new PublishError({ message: `${what}: ${conn.host} answered HTTP ${status}${said ? ` "${said}"` : ""}`, exitCode: 1, statusCode: status, hint: status >= 500 ? "the server's log has the details; publish again" : "check the Ollama settings" });
}

/** Why a fetch failed, in a word a user recognises: "connection refused", "host not found", ... */
export function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  const words: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host not found",
    ECONNRESET: "connection reset",
    ETIMEDOUT: "timed out",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    UND_ERR_CONNECT_TIMEOUT: "timed out",
    UND_ERR_SOCKET: "connection closed",
  };
  if (code) return words[code] ?? code;
  if (cause instanceof Error && cause.name === "TimeoutError") return "timed out";
  return cause instanceof Error ? cause.message : String(cause);
}
