import { describe, expect, it } from "vitest";
import { planChanges, planCommit } from "./plan-commit.js";
import type { LocalFile, RemoteFile } from "./plan-commit.js";

const sha = (c: string) => c.repeat(64);
const disk = (path: string, bytes: number, sha256: string): LocalFile => ({ path, bytes, sha256, source: { kind: "file", file: `/out/${path}` } });
const text = (path: string, gitOid: string): LocalFile => ({ path, bytes: 10, sha256: sha("e"), gitOid, source: { kind: "memory", content: new Uint8Array(10) } });
const lfs = (path: string, size: number, oid: string): RemoteFile => ({ path, size, oid: "p".repeat(40), lfs: { oid, size } });

describe("planCommit", () => {
  it("should add what is missing, keep what matches by LFS sha256 or git oid, and update the rest", () => {
    const local = [disk("a-Q8_0.gguf", 100, sha("a")), disk("a-Q4_K_M.gguf", 80, sha("b")), disk("a-F16.gguf", 200, sha("c")), text("README.md", "1".repeat(40)), text("report.json", "2".repeat(40))];
    const remote = [lfs("a-Q8_0.gguf", 100, sha("a")), lfs("a-Q4_K_M.gguf", 80, sha("9")), { path: "README.md", size: 10, oid: "1".repeat(40) }, { path: "report.json", size: 10, oid: "3".repeat(40) }];
    const plan = planCommit({ local, remote, previous: [] });
    expect(plan.map((f) => [f.path, f.action])).toEqual([
      ["README.md", "unchanged"],
      ["a-F16.gguf", "add"],
      ["a-Q4_K_M.gguf", "update"],
      ["a-Q8_0.gguf", "unchanged"],
      ["report.json", "update"],
    ]);
    expect(planChanges(plan)).toBe(true);
  });

  it("should see a same-sha file of another size, or a remote file stored outside LFS, as changed", () => {
    expect(planCommit({ local: [disk("x.gguf", 100, sha("a"))], remote: [lfs("x.gguf", 99, sha("a"))], previous: [] })[0]?.action).toBe("update");
    expect(planCommit({ local: [disk("x.gguf", 100, sha("a"))], remote: [{ path: "x.gguf", size: 100, oid: "1".repeat(40) }], previous: [] })[0]?.action).toBe("update");
  });

  it("should delete only files an earlier publish made that this one lacks, and leave other remote files alone", () => {
    const remote = [lfs("old-Q2_K.gguf", 50, sha("d")), lfs("a-Q8_0.gguf", 100, sha("a")), { path: "notes.md", size: 3, oid: "4".repeat(40) }];
    const plan = planCommit({ local: [disk("a-Q8_0.gguf", 100, sha("a"))], remote, previous: ["old-Q2_K.gguf", "a-Q8_0.gguf", "gone-already.gguf"] });
    expect(plan).toMatchObject([
      { path: "a-Q8_0.gguf", action: "unchanged" },
      { path: "old-Q2_K.gguf", action: "delete", bytes: 50, sha256: sha("d") },
    ]);
  });

  it("should report no change when every file matches", () => {
    const plan = planCommit({ local: [disk("a.gguf", 1, sha("a"))], remote: [lfs("a.gguf", 1, sha("a"))], previous: ["a.gguf"] });
    expect(planChanges(plan)).toBe(false);
  });
});
