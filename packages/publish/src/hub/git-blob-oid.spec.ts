import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitBlobOid, gitBlobOidOfFile } from "./git-blob-oid.js";

describe("gitBlobOid", () => {
  it("should match git hash-object, for bytes and for a file", async () => {
    // `printf 'hello\n' | git hash-object --stdin`
    expect(gitBlobOid(Buffer.from("hello\n"))).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    expect(gitBlobOid(new Uint8Array(0))).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    const file = join(await mkdtemp(join(tmpdir(), "git-oid-")), "hello.txt");
    await writeFile(file, "hello\n");
    expect(await gitBlobOidOfFile({ file, bytes: 6 })).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });
});
