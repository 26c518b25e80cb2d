import { describe, expect, it } from "vitest";
import { formatHubPlan } from "./format-hub-plan.js";

describe("formatHubPlan", () => {
  it("should print each file's action and size, the totals, and the commit or why there is none", () => {
    const lines = formatHubPlan([
      {
        repo: "me/tiny",
        endpoint: "https://huggingface.co",
        branch: "main",
        files: [
          { path: "README.md", action: "update", bytes: 3100 },
          { path: "tiny-Q4_K_M.gguf", action: "add", bytes: 109_696 },
          { path: "tiny-Q8_0.gguf", action: "unchanged", bytes: 142_720 },
          { path: "tiny-Q2_K.gguf", action: "delete", bytes: 90_000 },
        ],
        uploadedBytes: 0,
      },
      { repo: "me/tiny", endpoint: "https://huggingface.co", branch: "main", files: [{ path: "README.md", action: "unchanged", bytes: 3100 }], uploadedBytes: 0 },
      { repo: "me/tiny", endpoint: "https://huggingface.co", branch: "main", commit: { oid: "a".repeat(40), url: "https://huggingface.co/me/tiny/commit/aaa" }, files: [{ path: "x.gguf", action: "add", bytes: 5 }], uploadedBytes: 5 },
    ]);
    expect(lines.slice(0, 7)).toEqual([
      "me/tiny @ main (https://huggingface.co)",
      "  update     README.md          3.1 KB",
      "  add        tiny-Q4_K_M.gguf   110 KB",
      "  unchanged  tiny-Q8_0.gguf     143 KB",
      "  delete     tiny-Q2_K.gguf    90.0 KB",
      "  2 to upload (113 KB), 1 unchanged, 1 to delete",
      "  not committed (dry run)",
    ]);
    expect(lines).toContain("  up to date: no commit");
    expect(lines.at(-1)).toBe(`  commit ${"a".repeat(40)} https://huggingface.co/me/tiny/commit/aaa, 5 B uploaded`);
  });
});
