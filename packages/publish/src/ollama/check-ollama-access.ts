import { CanceledError } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { networkReason } from "./api.js";

export interface CheckOllamaAccessParams {
  /** The server's base URL (ollamaHost). */
  host: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** How long to wait for the answer; default 10 s (a host that swallows packets never refuses). */
  timeoutMs?: number;
}

export interface CheckOllamaAccessOutput {
  /** The server's version, e.g. "0.24.0". */
  version: string;
}

/**
 * Before any work: the host answers `/api/version` as an Ollama server does. A host that cannot be found, a refused
 * connection, no answer, an error status, or an answer that is not Ollama's, is one PublishError line (exit 2: the
 * setting or the server needs fixing before the publish can run).
 */
export async function checkOllamaAccess(params: CheckOllamaAccessParams): Promise<CheckOllamaAccessOutput> {
  const url = `${params.host}/api/version`;
  const hint = "start `ollama serve` there, or fix publish.ollama.host / OLLAMA_HOST";
  const timeout = AbortSignal.timeout(params.timeoutMs ?? 10_000);
  const signal = params.signal ? AbortSignal.any([params.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await (params.fetch ?? globalThis.fetch)(url, { signal });
    text = await response.text();
  } catch (error) {
    if (params.signal?.aborted) throw new CanceledError();
    const why = timeout.aborted ? `no answer within ${(params.timeoutMs ?? 10_000) / 1000} s` : networkReason(error);
    throw new PublishError({ message: `cannot reach the Ollama server at ${params.host} (${why})`, exitCode: 2, hint, cause: error });
  }
  if (!response.ok) {
    const what = response.status === 404 ? "it is not an Ollama server" : response.status >= 500 ? "a server error" : "";
    throw new PublishError({ message: `the Ollama server at ${params.host} answered /api/version with HTTP ${response.status}${what ? ` (${what})` : ""}`, exitCode: 2, statusCode: response.status, hint });
  }
  const version = parseVersion(text);
  if (version === undefined) throw new PublishError({ message: `${params.host} answered /api/version without a version: it is not an Ollama server`, exitCode: 2, hint });
  return { version };
}

function parseVersion(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === "string" ? body.version : undefined;
  } catch {
    return undefined;
  }
}
