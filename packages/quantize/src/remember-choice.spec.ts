import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recallChoice, rememberChoice } from "./remember-choice.js";

describe("rememberChoice / recallChoice", () => {
  const choices = [{ budget: "8GB", type: "Q4_K_M", ctx: 8192, needBytes: 5e9, allowedBytes: 7e9, passedOver: ["Q5_K_M: needs 7.5 GiB"], key: "k1" }];

  it("should give back what was remembered under the same key, and nothing under another", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "remember-choice-"));
    expect(await recallChoice({ outDir, key: "k1" })).toBeUndefined();
    await rememberChoice({ outDir, key: "k1", choices });
    expect(await recallChoice({ outDir, key: "k1" })).toEqual(choices);
    expect(await recallChoice({ outDir, key: "k2" })).toBeUndefined();
    // Written under a partial name first: only the memo itself is left.
    expect(await readdir(join(outDir, ".pipeline", "choices"))).toEqual(["k1.json"]);
  });
});
