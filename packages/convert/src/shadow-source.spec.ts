import { describe, expect, it } from "vitest";
import { withLicense } from "./shadow-source.js";

describe("withLicense", () => {
  it("should set the verdict in the front matter and keep everything else", () => {
    const card = "---\nlicense: mit\nlicense_link: https://example.com/terms\ntags:\n- llama\nbase_model: org/base\n---\n# Title\n\nBody.\n";
    const out = withLicense(card, { id: "cc-by-nc-4.0" });
    expect(out).toBe("---\nlicense: cc-by-nc-4.0\ntags:\n  - llama\nbase_model: org/base\n---\n# Title\n\nBody.\n");
  });

  it("should add front matter to a card without any, and make a card from nothing", () => {
    expect(withLicense("# Just a title\n", { id: "other", name: "acme", link: "LICENSE" })).toBe("---\nlicense: other\nlicense_name: acme\nlicense_link: LICENSE\n---\n# Just a title\n");
    expect(withLicense("", { id: "apache-2.0" })).toBe("---\nlicense: apache-2.0\n---\n");
  });
});
