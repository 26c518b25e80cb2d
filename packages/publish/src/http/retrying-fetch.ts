import { setTimeout as sleep } from "node:timers/promises";
import type { StageEvent } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { retryDelay, retryPolicyFromEnv } from "./retry-delay.js";
import type { RetryCause, RetryPolicy } from "./retry-delay.js";

/** One retry about to happen (the Hub's status or "connection lost"), for a warning line. */
export interface RetryNotice {
  method: string;
  /** The request's path on the Hub or the storage, without the query (which may hold a signed credential). */
  path: string;
  /** The file being uploaded, when the request carries one. */
  file?: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RetryingFetchParams {
  fetch?: typeof fetch;
  policy?: Partial<RetryPolicy>;
  /** Aborts waits and requests (the run's signal). */
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
  /** A request failed for good (retries spent, or a failure not worth retrying): which, and why. */
  onGiveUp?: (notice: Omit<RetryNotice, "delayMs">) => void;
  random?: () => number;
}

/**
 * A `fetch` for the Hub client that repeats a request on 5xx, 408, 429 (after `Retry-After`) and broken connections,
 * with exponential backoff. Bodies are Blobs or strings, so a repeat re-sends them from the start. A commit that opens
 * a pull request is not repeated after a lost answer (it may have been opened); a branch commit carries its
 * parentCommit, so a repeat of one that landed is refused (412) rather than applied twice.
 */
export function createRetryingFetch(params: RetryingFetchParams = {}): typeof fetch {
  const inner = params.fetch ?? fetch;
  const policy = { ...retryPolicyFromEnv(), ...params.policy };
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    // A stream body cannot be sent twice; the Hub client never uses one.
    const replayable = !(init?.body instanceof ReadableStream) && !(input instanceof Request && input.body);
    const idempotent = !(method === "POST" && /\/commit\//.test(url.pathname) && url.searchParams.has("create_pr"));
    const signals = [init?.signal, params.signal].filter((s): s is AbortSignal => !!s);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const waitMs = policy.timeoutMs + Math.round(bodyBytes(init?.body) / 2 ** 20) * 1000;
    for (let attempt = 1; ; attempt++) {
      let cause: RetryCause;
      let response: Response | undefined;
      let failure: unknown;
      // A server that takes the request and never answers would hold the run for as long as the user waits.
      const timeout = AbortSignal.timeout(waitMs);
      try {
        response = await inner(input, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        if (response.ok) return response;
        cause = { kind: "status", status: response.status, retryAfter: response.headers.get("retry-after") };
      } catch (error) {
        const local = localCause(error);
        if (local) throw local;
        if (signal?.aborted) throw error;
        if (!timeout.aborted && !(error instanceof TypeError)) throw error;
        failure = timeout.aborted ? new PublishError({ message: `no answer from ${url.origin}${url.pathname} in ${Math.round(waitMs / 1000)} s (${attempt} ${attempt === 1 ? "try" : "tries"})`, exitCode: 1, hint: "check the network and HF_ENDPOINT, then run again (GGUF_PIPELINE_HTTP_TIMEOUT sets the wait)" }) : error;
        cause = { kind: "network" };
      }
      const delayMs = replayable ? retryDelay({ policy, attempt, cause, idempotent, ...(params.random ? { random: params.random } : {}) }) : undefined;
      const file = init?.body && typeof init.body === "object" && "label" in init.body && typeof init.body.label === "string" ? init.body.label : undefined;
      const notice = { method, path: url.pathname, ...(file ? { file } : {}), attempt, reason: describe(cause, failure) };
      if (delayMs === undefined) {
        params.onGiveUp?.(notice);
        if (response) return response;
        throw failure;
      }
      await response?.body?.cancel().catch(() => undefined);
      params.onRetry?.({ ...notice, delayMs });
      await sleep(delayMs, undefined, signal ? { signal } : {});
    }
  };
}

/** The bytes a request body sends, where it says (a Blob or a string); 0 otherwise. */
function bodyBytes(body: RequestInit["body"]): number {
  if (body instanceof Blob) return body.size;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

/** A failure to read our own file, wrapped by fetch: not the network's fault, so never retried. */
function localCause(error: unknown): PublishError | undefined {
  if (error instanceof PublishError) return error;
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof PublishError ? cause : undefined;
}

function describe(cause: RetryCause, failure: unknown): string {
  if (failure instanceof PublishError) return "no answer in time";
  if (cause.kind === "status") return `HTTP ${cause.status}${cause.retryAfter ? `, Retry-After ${cause.retryAfter}` : ""}`;
  const inner = failure instanceof Error && failure.cause instanceof Error ? failure.cause : undefined;
  const code = inner && "code" in inner && typeof inner.code === "string" ? inner.code : undefined;
  return `connection failed${code ? ` (${code})` : inner?.message ? ` (${inner.message})` : ""}`;
}

/** The retries noticed so far as warning events (and forgets them). */
export function* retryWarnings(notices: RetryNotice[], stage: string): Generator<StageEvent> {
  for (const n of notices.splice(0)) {
    yield { type: "log", stage, level: "warn", message: `${n.file ?? `${n.method} ${n.path}`}: ${n.reason}; retrying in ${(n.delayMs / 1000).toFixed(1)} s (attempt ${n.attempt + 1})` };
  }
}
