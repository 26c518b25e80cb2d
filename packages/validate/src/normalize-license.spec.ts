import { describe, expect, it } from "vitest";
import { normalizeLicense } from "./normalize-license.js";

describe("normalizeLicense", () => {
  it.each([
    ["apache-2.0", "apache-2.0"],
    ["Apache-2.0", "apache-2.0"],
    ["Apache 2.0", "apache-2.0"],
    ["Apache License 2.0", "apache-2.0"],
    ["apache license, version 2.0", "apache-2.0"],
    ["apache2", "apache-2.0"],
    ["MIT License", "mit"],
    ["CC-BY-NC-4.0", "cc-by-nc-4.0"],
    ["cc by-nc 4.0", "cc-by-nc-4.0"],
    ["GPL-3.0-only", "gpl-3.0"],
    ["LGPL-2.1-or-later", "lgpl-2.1"],
    ["BSD-3-Clause", "bsd-3-clause"],
    ["llama3.1", "llama3.1"],
    ["llama3_1", "llama3.1"],
    ["Llama 3.1 Community License", "llama3.1"],
    ["Meta Llama 3 Community License Agreement", "llama3"],
    ["llama-3.3", "llama3.3"],
    ["Llama 2", "llama2"],
    ["Gemma Terms of Use", "gemma"],
    ["other", "other"],
    ["apache2.0", "apache-2.0"],
    ["GPLv3", "gpl-3.0"],
    ["gpl-2.0+", "gpl-2.0"],
    ["Llama 2.0", "llama2"],
  ])("should read %j as %s", (value, id) => {
    expect(normalizeLicense({ value })).toBe(id);
  });

  it.each(["unknown", "", "proprietary", "llama3.5", "my own license"])("should name no license for %j", (value) => {
    expect(normalizeLicense({ value })).toBeUndefined();
  });
});
