import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "@gguf-pipeline/core";
import { requireFile } from "./require-file.js";

describe("requireFile", () => {
  it("should pass a file that is there and refuse one that is not, as an input error (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "require-file-"));
    await writeFile(join(dir, "a.gguf"), "GGUF");
    await expect(requireFile({ file: join(dir, "a.gguf"), hint: "pass a .gguf file" })).resolves.toBeUndefined();
    const refused = await requireFile({ file: join(dir, "b.gguf"), hint: "pass a .gguf file" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(refused).toMatchObject({ exitCode: 2, message: "no such file" });
  });
});
