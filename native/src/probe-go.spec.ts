import { describe, expect, it } from "vitest";
import { ToolchainError } from "@gguf-pipeline/core";
import { probeGo } from "./probe-go.js";

describe("probeGo", () => {
  it("should say in one line that Go is missing, and how to install it", async () => {
    const error = await probeGo({ command: "/nonexistent/go" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect(error).toMatchObject({ message: expect.stringMatching(/^Go is not installed/), hint: expect.stringContaining("go.dev/dl") });
    expect((error as ToolchainError).toLine()).not.toContain("\n");
  });
});
