import { describe, expect, it } from "vitest";
import { PublishError } from "../errors.js";
import { hubEndpoint } from "./hub-endpoint.js";

describe("hubEndpoint", () => {
  it("should default to the public Hub when HF_ENDPOINT is unset or blank", () => {
    expect(hubEndpoint({})).toBe("https://huggingface.co");
    expect(hubEndpoint({ HF_ENDPOINT: "  " })).toBe("https://huggingface.co");
  });

  it("should take HF_ENDPOINT without its trailing slash, keeping a path prefix", () => {
    expect(hubEndpoint({ HF_ENDPOINT: "http://127.0.0.1:8080/" })).toBe("http://127.0.0.1:8080");
    expect(hubEndpoint({ HF_ENDPOINT: "https://mirror.example.com/hf//" })).toBe("https://mirror.example.com/hf");
  });

  it("should refuse what is not an http(s) address, with exit code 2, and never echo credentials", () => {
    expect(() => hubEndpoint({ HF_ENDPOINT: "huggingface.co" })).toThrow(PublishError);
    expect(() => hubEndpoint({ HF_ENDPOINT: "ftp://example.com" })).toThrow(/http\(s\)/);
    const error = (() => {
      try {
        hubEndpoint({ HF_ENDPOINT: "https://user:hf_secret@example.com" });
      } catch (e) {
        return e as PublishError;
      }
      return undefined;
    })();
    expect(error?.exitCode).toBe(2);
    expect(error?.toLine()).not.toContain("hf_secret");
  });
});
