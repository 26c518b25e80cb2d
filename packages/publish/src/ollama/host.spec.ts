import { describe, expect, it } from "vitest";
import { ollamaHost } from "./host.js";

const settings = { name: "tiny", push: false, insecure: false };

describe("ollamaHost", () => {
  it("should read OLLAMA_HOST as Ollama does: http and port 11434 by default, bind-all as loopback", () => {
    const host = (OLLAMA_HOST: string) => ollamaHost({ settings, env: { OLLAMA_HOST } });
    expect(host("127.0.0.1:11500")).toBe("http://127.0.0.1:11500");
    expect(host("localhost")).toBe("http://localhost:11434");
    expect(host("0.0.0.0")).toBe("http://127.0.0.1:11434");
    expect(host("http://box")).toBe("http://box:80");
    expect(host("https://ollama.example.com/")).toBe("https://ollama.example.com:443");
    expect(host("https://example.com:8443/ollama/")).toBe("https://example.com:8443/ollama");
    expect(host("[::1]:9000")).toBe("http://[::1]:9000");
    expect(host('"127.0.0.1:1"')).toBe("http://127.0.0.1:1");
  });

  it("should prefer the recipe's host, and give none when neither is set", () => {
    expect(ollamaHost({ settings: { ...settings, host: "gpu-box:11434" }, env: { OLLAMA_HOST: "other" } })).toBe("http://gpu-box:11434");
    expect(ollamaHost({ settings, env: {} })).toBeUndefined();
    expect(ollamaHost({ settings, env: { OLLAMA_HOST: " " } })).toBeUndefined();
  });
});
