import { PublishError } from "../errors.js";

/** What `whoami-v2` says about a token (the fields this needs; the Hub sends more). */
export interface WhoAmIAnswer {
  type?: string;
  name?: string;
  orgs?: { name?: string; roleInOrg?: string }[];
  auth?: {
    type?: string;
    accessToken?: {
      role?: string;
      fineGrained?: { global?: string[]; scoped?: { entity?: { type?: string; name?: string }; permissions?: string[] }[] };
    };
  };
}

export interface JudgeTokenParams {
  whoami: WhoAmIAnswer;
  /** owner/name of every repo the publish writes. */
  repos: string[];
  /** Where to make a new token (the Hub's settings page). */
  tokensUrl: string;
}

const writeRoles = new Set(["write", "admin", "contributor"]);

/**
 * Whether the token may write every repo: a write role (or a fine-grained token with repo.write on the repo or its
 * namespace), and a namespace that is the user's own or one of its organizations where it may write.
 */
export function judgeToken(params: JudgeTokenParams): { user: string } {
  const { whoami, tokensUrl } = params;
  const user = whoami.name;
  if (!user) throw new PublishError({ message: "the Hub's whoami answer names no user", exitCode: 1, hint: "check that HF_ENDPOINT points at a Hugging Face Hub" });
  const token = whoami.auth?.accessToken;
  const role = token?.role;
  if (role === "read") {
    throw new PublishError({ message: `HF_TOKEN is read-only (user ${user}, role "read"): it cannot create repos or commit`, exitCode: 2, hint: `create a token with the "write" role at ${tokensUrl} and set HF_TOKEN to it` });
  }
  for (const repo of params.repos) {
    const namespace = repo.split("/")[0] ?? "";
    if (role === "fineGrained") {
      if (!fineGrainedCanWrite(token?.fineGrained, repo, namespace)) {
        throw new PublishError({ message: `HF_TOKEN (user ${user}, fine-grained) has no "repo.write" permission for ${repo}`, exitCode: 2, repo, hint: `add write access to ${namespace} (or to ${repo}) to the token at ${tokensUrl}` });
      }
    } else if (role !== undefined && !writeRoles.has(role)) {
      throw new PublishError({ message: `HF_TOKEN (user ${user}) has the role "${role}", which cannot write`, exitCode: 2, repo, hint: `create a token with the "write" role at ${tokensUrl}` });
    }
    if (namespace === user) continue;
    const org = whoami.orgs?.find((o) => o.name === namespace);
    if (!org) {
      const orgs = (whoami.orgs ?? []).map((o) => o.name).filter(Boolean);
      throw new PublishError({
        message: `HF_TOKEN belongs to ${user}, who may not write to ${namespace}/ (repo ${repo})`,
        exitCode: 2,
        repo,
        hint: `publish to ${user}/…${orgs.length ? ` or to an organization of ${user} (${orgs.join(", ")})` : ""}, or use a token of ${namespace}`,
      });
    }
    if (org.roleInOrg === "read") {
      throw new PublishError({ message: `${user} is a read-only member of ${namespace}: it cannot write ${repo}`, exitCode: 2, repo, hint: `ask an admin of ${namespace} for the write role, or publish to ${user}/…` });
    }
  }
  return { user };
}

function fineGrainedCanWrite(grants: NonNullable<NonNullable<WhoAmIAnswer["auth"]>["accessToken"]>["fineGrained"], repo: string, namespace: string): boolean {
  return (grants?.scoped ?? []).some(
    (scope) => (scope.permissions ?? []).includes("repo.write") && (scope.entity?.name === namespace || (scope.entity?.type === "model" && scope.entity.name === repo)),
  );
}
