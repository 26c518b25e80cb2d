import { describe, expect, it } from "vitest";
import { LocalFileError } from "../errors.js";
import { createRetryingFetch } from "./retrying-fetch.js";
import type { RetryNotice } from "./retrying-fetch.js";

const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
/** A network double: answers from a script, one entry per request (a status, or "drop" for a broken connection). */
function scripted(script: (number | "drop")[]): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push(`${init?.method ?? "GET"} ${String(input)}`);
    const next = script.shift() ?? 200;
    if (next === "drop") throw new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    return new Response(JSON.stringify({ error: "x" }), { status: next, headers: next === 429 ? { "Retry-After": "0" } : {} });
  };
  return { fetch, calls };
}

describe("createRetryingFetch", () => {
  it("should repeat a request after broken connections and transient statuses, and report each retry", async () => {
    const net = scripted(["drop", 503, 429, 200]);
    const notices: RetryNotice[] = [];
    const response = await createRetryingFetch({ fetch: net.fetch, policy, onRetry: (n) => notices.push(n) })("http://hub/api/x", { method: "PUT", body: new Blob(["abc"]) });
    expect(response.status).toBe(200);
    expect(net.calls).toHaveLength(4);
    expect(notices.map((n) => n.reason)).toEqual(["connection failed (ECONNRESET)", "HTTP 503", "HTTP 429, Retry-After 0"]);
  });

  it("should give the last answer back once the attempts are spent, and not retry a client error", async () => {
    const spent = scripted([500, 500, 500, 500]);
    const gaveUp: unknown[] = [];
    expect((await createRetryingFetch({ fetch: spent.fetch, policy, onGiveUp: (n) => gaveUp.push(n) })("http://hub/a")).status).toBe(500);
    expect(spent.calls).toHaveLength(4);
    expect(gaveUp).toEqual([{ method: "GET", path: "/a", attempt: 4, reason: "HTTP 500" }]);
    const notFound = scripted([404]);
    expect((await createRetryingFetch({ fetch: notFound.fetch, policy })("http://hub/b")).status).toBe(404);
    expect(notFound.calls).toHaveLength(1);
  });

  it("should not repeat a commit that opens a pull request after its answer was lost", async () => {
    const net = scripted(["drop", 200]);
    await expect(createRetryingFetch({ fetch: net.fetch, policy })("http://hub/api/models/a/b/commit/main?create_pr=1", { method: "POST", body: "{}" })).rejects.toThrow("fetch failed");
    expect(net.calls).toHaveLength(1);
    const branch = scripted(["drop", 200]);
    expect((await createRetryingFetch({ fetch: branch.fetch, policy })("http://hub/api/models/a/b/commit/main", { method: "POST", body: "{}" })).status).toBe(200);
  });

  it("should never retry a failure to read our own file, and hand it over unwrapped", async () => {
    const local = new LocalFileError({ file: "/out/a.gguf", message: "cannot read a.gguf" });
    let calls = 0;
    const failing: typeof fetch = async () => {
      calls++;
      throw new TypeError("fetch failed", { cause: local });
    };
    await expect(createRetryingFetch({ fetch: failing, policy })("http://hub/x", { method: "PUT", body: new Blob(["a"]) })).rejects.toBe(local);
    expect(calls).toBe(1);
  });

  it("should stop waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const net = scripted([503, 503, 503]);
    const pending = createRetryingFetch({ fetch: net.fetch, policy: { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, signal: controller.signal })("http://hub/x");
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow(/abort/i);
  });
});
