import { describe, expect, it } from "vitest";
import { goToolLayout } from "./go-tool-layout.js";
import { readGoToolsPin, type GoToolsPin } from "./go-tools-pin.js";

const go = { version: "1.26.8", goos: "linux", goarch: "amd64" };
const env = { GGUF_PIPELINE_CACHE: "/cache" };

describe("goToolLayout", () => {
  it("should place each binary in the cache under its name, version and key", () => {
    const layout = goToolLayout({ name: "ollama", go, env });
    expect(layout.key).toMatch(/^[0-9a-f]{16}$/);
    expect(layout.entryDir).toBe(`/cache/go/ollama-v0.24.0-${layout.key}`);
    expect(layout.binPath).toBe(`${layout.entryDir}/bin/ollama`);
    expect(layout.marker).toBe(`${layout.entryDir}/tool.json`);
    expect(layout.lock).toBe(`/cache/locks/go-ollama-${layout.key}`);
    expect(layout.buildEnv).toMatchObject({ GOPATH: "/cache/go/gopath", GOMODCACHE: "/cache/go/gopath/pkg/mod", GOCACHE: "/cache/go/gocache", GOTOOLCHAIN: "local", CGO_ENABLED: "1" });
  });

  it("should build with the pinned flags and version", () => {
    expect(goToolLayout({ name: "ollama", go, env }).installArgs).toEqual([
      "install",
      "-modcacherw",
      "-trimpath",
      "-ldflags",
      "-X github.com/ollama/ollama/version.Version=0.24.0",
      "-v",
      "github.com/ollama/ollama@v0.24.0",
    ]);
    expect(goToolLayout({ name: "actionlint", go, env }).installArgs).toEqual(["install", "-modcacherw", "-trimpath", "-v", "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"]);
    expect(goToolLayout({ name: "registry", go, env }).buildEnv.CGO_ENABLED).toBe("0");
  });

  it("should change the key with the pin, the Go version and the platform, but not with the comment", () => {
    const pin = readGoToolsPin();
    const with_ = (change: (p: GoToolsPin) => void): GoToolsPin => {
      const copy = structuredClone(pin);
      change(copy);
      return copy;
    };
    const key = goToolLayout({ name: "registry", go, env, pin }).key;
    expect(goToolLayout({ name: "registry", go, env, pin: with_((p) => (p.tools.registry.$comment = "reworded")) }).key).toBe(key);
    expect(goToolLayout({ name: "registry", go, env, pin: with_((p) => (p.tools.registry.version = "v3.1.1")) }).key).not.toBe(key);
    expect(goToolLayout({ name: "registry", go, env, pin: with_((p) => (p.tools.registry.ldflags = "-s -w")) }).key).not.toBe(key);
    expect(goToolLayout({ name: "registry", go, env, pin: with_((p) => (p.goFlags = [])) }).key).not.toBe(key);
    expect(goToolLayout({ name: "registry", go: { ...go, version: "1.26.9" }, env, pin }).key).not.toBe(key);
    expect(goToolLayout({ name: "registry", go: { ...go, goarch: "arm64" }, env, pin }).key).not.toBe(key);
  });
});
