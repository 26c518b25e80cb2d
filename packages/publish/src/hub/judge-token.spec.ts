import { describe, expect, it } from "vitest";
import { PublishError } from "../errors.js";
import { judgeToken } from "./judge-token.js";
import type { WhoAmIAnswer } from "./judge-token.js";

const tokensUrl = "https://huggingface.co/settings/tokens";
const user = (role: string, extra: Partial<WhoAmIAnswer> = {}): WhoAmIAnswer => ({
  type: "user",
  name: "alice",
  orgs: [{ name: "team", roleInOrg: "write" }, { name: "readers", roleInOrg: "read" }],
  auth: { type: "access_token", accessToken: { role } },
  ...extra,
});

function failure(whoami: WhoAmIAnswer, repos: string[]): PublishError {
  try {
    judgeToken({ whoami, repos, tokensUrl });
  } catch (error) {
    if (error instanceof PublishError) return error;
    throw error;
  }
  throw new Error("expected a PublishError");
}

describe("judgeToken", () => {
  it("should accept a write token for the user's own namespace and its organizations", () => {
    expect(judgeToken({ whoami: user("write"), repos: ["alice/tiny", "team/tiny-adapters"], tokensUrl })).toEqual({ user: "alice" });
  });

  it("should refuse a read-only token with one line that says how to fix it", () => {
    const error = failure(user("read"), ["alice/tiny"]);
    expect(error.exitCode).toBe(2);
    expect(error.toLine()).toMatch(/read-only.*— create a token with the "write" role at https:\/\/huggingface.co\/settings\/tokens/);
  });

  it("should refuse a namespace that is neither the user's nor one of its organizations, naming the ones it could use", () => {
    expect(failure(user("write"), ["bob/tiny"]).toLine()).toMatch(/alice, who may not write to bob\/ .* — publish to alice\/… or to an organization of alice \(team, readers\)/);
    expect(failure(user("write"), ["readers/tiny"]).message).toMatch(/read-only member of readers/);
  });

  it("should read fine-grained tokens by their repo.write scopes on the namespace or the repo", () => {
    const scoped = (entity: { type: string; name: string }, permissions: string[]) =>
      user("fineGrained", { auth: { accessToken: { role: "fineGrained", fineGrained: { global: [], scoped: [{ entity, permissions }] } } } });
    expect(judgeToken({ whoami: scoped({ type: "user", name: "alice" }, ["repo.content.read", "repo.write"]), repos: ["alice/tiny"], tokensUrl })).toEqual({ user: "alice" });
    expect(judgeToken({ whoami: scoped({ type: "model", name: "alice/tiny" }, ["repo.write"]), repos: ["alice/tiny"], tokensUrl })).toEqual({ user: "alice" });
    expect(failure(scoped({ type: "user", name: "alice" }, ["repo.content.read"]), ["alice/tiny"]).message).toMatch(/no "repo.write" permission for alice\/tiny/);
    expect(failure(scoped({ type: "model", name: "alice/other" }, ["repo.write"]), ["alice/tiny"]).exitCode).toBe(2);
  });
});
