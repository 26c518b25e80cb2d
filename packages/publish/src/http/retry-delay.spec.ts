import { describe, expect, it } from "vitest";
import { defaultRetryPolicy, retryDelay } from "./retry-delay.js";
import type { RetryCause } from "./retry-delay.js";

const policy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 3000, maxRetryAfterMs: 60_000, timeoutMs: 60_000 };
const at = (attempt: number, cause: RetryCause, extra: { idempotent?: boolean; random?: () => number } = {}) =>
  retryDelay({ policy, attempt, cause, idempotent: extra.idempotent ?? true, random: extra.random ?? (() => 1), now: Date.parse("2025-01-01T00:00:00Z") });

describe("retryDelay", () => {
  it("should back off exponentially up to the cap, and give up after the last attempt", () => {
    const network: RetryCause = { kind: "network" };
    expect([1, 2, 3].map((n) => at(n, network))).toEqual([1000, 2000, 3000]);
    expect(at(4, network)).toBeUndefined();
  });

  it("should jitter between half and all of the backoff", () => {
    expect(at(2, { kind: "network" }, { random: () => 0 })).toBe(1000);
    expect(at(2, { kind: "network" }, { random: () => 0.5 })).toBe(1500);
  });

  it("should retry 5xx, 408 and 429, and never a client error", () => {
    for (const status of [500, 502, 503, 504, 408, 429]) expect(at(1, { kind: "status", status })).toBe(1000);
    for (const status of [400, 401, 403, 404, 409, 412, 413, 422]) expect(at(1, { kind: "status", status })).toBeUndefined();
  });

  it("should honour Retry-After in seconds and as an HTTP date, and give up when it is longer than allowed", () => {
    expect(at(1, { kind: "status", status: 429, retryAfter: "7" })).toBe(7000);
    expect(at(1, { kind: "status", status: 503, retryAfter: "Wed, 01 Jan 2025 00:00:30 GMT" })).toBe(30_000);
    expect(at(1, { kind: "status", status: 429, retryAfter: "3600" })).toBeUndefined();
    expect(at(1, { kind: "status", status: 429, retryAfter: "soon" })).toBe(1000);
  });

  it("should not repeat a request that may have been carried out, unless the Hub refused it with 429", () => {
    expect(at(1, { kind: "network" }, { idempotent: false })).toBeUndefined();
    expect(at(1, { kind: "status", status: 500 }, { idempotent: false })).toBeUndefined();
    expect(at(1, { kind: "status", status: 429, retryAfter: "1" }, { idempotent: false })).toBe(1000);
  });

  it("should wait about a minute in all before giving up by default", () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => retryDelay({ policy: defaultRetryPolicy, attempt, cause: { kind: "network" }, idempotent: true, random: () => 1 }) ?? 0);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(31_000);
    expect(retryDelay({ policy: defaultRetryPolicy, attempt: 6, cause: { kind: "network" }, idempotent: true })).toBeUndefined();
  });
});

describe("retryPolicyFromEnv", () => {
  it("should take the wait and the tries from the environment, and ignore what is not a positive number", async () => {
    const { retryPolicyFromEnv } = await import("./retry-delay.js");
    expect(retryPolicyFromEnv({ GGUF_PIPELINE_HTTP_TIMEOUT: "2.5", GGUF_PIPELINE_HTTP_ATTEMPTS: "2" })).toMatchObject({ timeoutMs: 2500, attempts: 2 });
    expect(retryPolicyFromEnv({ GGUF_PIPELINE_HTTP_TIMEOUT: "-1", GGUF_PIPELINE_HTTP_ATTEMPTS: "1e3" })).toMatchObject({ timeoutMs: 60_000, attempts: 6 });
  });
});
