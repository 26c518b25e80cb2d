import { describe, expect, it } from "vitest";
import { goToolNames, goTooOld, readGoToolsPin } from "./go-tools-pin.js";

describe("go-tools.json", () => {
  it("should pin every helper binary to an exact release with a reason", () => {
    const pin = readGoToolsPin();
    expect(Object.keys(pin.tools).sort()).toEqual([...goToolNames].sort());
    for (const tool of Object.values(pin.tools)) {
      expect(tool.version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(tool.package.startsWith(tool.module)).toBe(true);
      expect(tool.$comment.length).toBeGreaterThan(40);
      expect(tool.minGo).toMatch(/^\d+\.\d+(\.\d+)?$/);
    }
    expect(pin.tools.ollama).toMatchObject({ version: "v0.24.0", cgo: true, llamaCppHeaders: ["nlohmann", "miniaudio", "stb"] });
    expect(pin.tools.ollama.ldflags).toContain("version.Version=0.24.0");
  });
});

describe("goTooOld", () => {
  it("should compare Go versions part by part", () => {
    expect(goTooOld({ have: "1.26.8", need: "1.26.0" })).toBe(false);
    expect(goTooOld({ have: "1.26", need: "1.26.0" })).toBe(false);
    expect(goTooOld({ have: "1.25.9", need: "1.26.0" })).toBe(true);
    expect(goTooOld({ have: "1.9", need: "1.10" })).toBe(true);
    expect(goTooOld({ have: "2.0", need: "1.26.0" })).toBe(false);
  });
});
