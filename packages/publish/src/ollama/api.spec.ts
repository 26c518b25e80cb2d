import { describe, expect, it } from "vitest";
import { CanceledError } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { networkReason, ollamaStream, statusError } from "./api.js";
import type { OllamaConnection } from "./api.js";

/** A server that answers every request with these NDJSON lines (the network is the boundary replaced here). */
function answering(status: number, lines: string[]): OllamaConnection {
  return { host: "http://ollama:11434", fetch: async () => new Response(lines.map((l) => `${l}\n`).join(""), { status }) };
}

async function collect(conn: OllamaConnection): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const line of ollamaStream(conn, { method: "POST", path: "/api/create", body: { model: "m" }, what: "creating m:q8_0" })) out.push(line);
  return out;
}

describe("ollamaStream", () => {
  it("should yield each status line", async () => {
    expect(await collect(answering(200, ['{"status":"parsing GGUF"}', '{"status":"success"}']))).toEqual([{ status: "parsing GGUF" }, { status: "success" }]);
  });

  it("should fail on an error line inside an HTTP 200 stream, as one line", async () => {
    const error = await collect(answering(200, ['{"status":"parsing GGUF"}', '{"error":"blob sha256:abc not found"}'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).toLine()).toBe('creating m:q8_0: Ollama says "blob sha256:abc not found" — the server\'s log at http://ollama:11434 has the details');
  });

  it("should fail on an error status with the server's words, and on a line that is not JSON", async () => {
    await expect(collect(answering(400, ['{"error":"invalid model name"}']))).rejects.toMatchObject({ exitCode: 1, statusCode: 400, message: 'creating m:q8_0: http://ollama:11434 answered HTTP 400 "invalid model name"' });
    await expect(collect(answering(200, ["<html>"]))).rejects.toThrow(/not JSON: <html>/);
  });

  it("should turn a refused connection into one line, and an abort into a cancel", async () => {
    const refused: OllamaConnection = { host: "http://ollama:1", fetch: async () => Promise.reject(new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) })) };
    await expect(collect(refused)).rejects.toThrow("creating m:q8_0: cannot reach the Ollama server at http://ollama:1 (connection refused)");
    const controller = new AbortController();
    controller.abort();
    await expect(collect({ ...refused, signal: controller.signal })).rejects.toBeInstanceOf(CanceledError);
  });
});

describe("statusError and networkReason", () => {
  it("should say what failed in a word", () => {
    expect(statusError({ host: "http://h:1", fetch }, "reading m", 500, "boom").toLine()).toBe('reading m: http://h:1 answered HTTP 500 "boom" — the server\'s log has the details; publish again');
    expect(networkReason(new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }))).toBe("host not found");
    expect(networkReason(new Error("plain"))).toBe("plain");
  });
});
