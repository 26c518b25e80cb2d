/** How hard a request is retried. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first backoff; it doubles with every further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the request fails with the Hub's answer. */
  maxRetryAfterMs: number;
  /**
   * How long an attempt may wait for its answer: this, plus a second per MiB of its body (a slow upload is not a
   * stalled one). An attempt that outlasts it is given up and retried like a broken connection.
   */
  timeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 300_000, timeoutMs: 60_000 };

/**
 * The policy with what the environment changes: GGUF_PIPELINE_HTTP_TIMEOUT (seconds an attempt waits for an answer)
 * and GGUF_PIPELINE_HTTP_ATTEMPTS (tries in all). Bad values are ignored.
 */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const seconds = /^\d+(\.\d+)?$/.test(env.GGUF_PIPELINE_HTTP_TIMEOUT ?? "") ? Number(env.GGUF_PIPELINE_HTTP_TIMEOUT) : 0;
  const attempts = /^[1-9]\d?$/.test(env.GGUF_PIPELINE_HTTP_ATTEMPTS ?? "") ? Number(env.GGUF_PIPELINE_HTTP_ATTEMPTS) : 0;
  return { ...defaultRetryPolicy, ...(seconds > 0 ? { timeoutMs: seconds * 1000 } : {}), ...(attempts > 0 ? { attempts } : {}) };
}

/** Why an attempt failed: the Hub answered an error status, or the connection broke (refused, reset, dropped mid-body). */
export type RetryCause = { kind: "status"; status: number; retryAfter?: string | null } | { kind: "network" };

export interface RetryDelayParams {
  policy: RetryPolicy;
  /** The attempt that just failed, from 1. */
  attempt: number;
  cause: RetryCause;
  /**
   * Whether sending the request twice is harmless. A request that may have been carried out before its answer was
   * lost (a dropped commit that opens a pull request) is retried only when the Hub refused it outright (429).
   */
  idempotent: boolean;
  /** 0..1, for the jitter (Math.random by default). */
  random?: () => number;
  now?: number;
}

/** Statuses worth another try: the Hub's or the storage's passing failures, and rate limiting. */
const transient = new Set([408, 429, 500, 502, 503, 504]);

/**
 * How long to wait before the next attempt, or undefined to give up. Exponential backoff with jitter
 * (half to all of base·2^(attempt−1), capped), except that the Hub's `Retry-After` is honoured as it is.
 */
export function retryDelay(params: RetryDelayParams): number | undefined {
  const { policy, attempt, cause } = params;
  if (attempt >= policy.attempts) return undefined;
  if (cause.kind === "status") {
    if (!transient.has(cause.status)) return undefined;
    if (!params.idempotent && cause.status !== 429) return undefined;
    const asked = parseRetryAfter(cause.retryAfter, params.now ?? Date.now());
    if (asked !== undefined) return asked <= policy.maxRetryAfterMs ? asked : undefined;
  } else if (!params.idempotent) {
    return undefined;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + 0.5 * (params.random ?? Math.random)()));
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
