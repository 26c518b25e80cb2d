import { describe, expect, it } from "vitest";
import { forTerminal, printable, redactSecrets } from "./for-terminal.js";

const token = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

describe("forTerminal", () => {
  it("should redact the token the environment holds, wherever a server or a file put it", () => {
    const env = { HF_TOKEN: token };
    expect(redactSecrets(`invalid credentials: "Authorization: Bearer ${token}"`, env)).toBe('invalid credentials: "Authorization: Bearer ***"');
    expect(redactSecrets(`{"error":"bad ${token}"}`, env)).toBe('{"error":"bad HF_TOKEN***"}');
  });

  it("should redact Hub-shaped tokens and Bearer credentials it was not told about", () => {
    expect(redactSecrets("used hf_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz here", {})).toBe("used hf_*** here");
    expect(redactSecrets("Authorization: Bearer abc.def-ghi_jkl", {})).toBe("Authorization: Bearer ***");
  });

  it("should show control characters as escapes, not act on the terminal", () => {
    expect(printable("license: mit\u001b]0;owned\u0007\r\n")).toBe("license: mit\\x1b]0;owned\\x07\\x0d\\x0a");
    expect(printable("a\tb \u202eevil")).toBe("a\tb \\u202eevil");
    expect(forTerminal("name \u001b[31mred", {})).toBe("name \\x1b[31mred");
  });
});
