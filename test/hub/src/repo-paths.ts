import type { Call } from "./context.js";
import { readableRepo } from "./context.js";
import { revisionNotFound } from "./hub-error.js";
import type { Repo, ResolvedRev } from "./repo-store.js";

/** `{ns}/{repo}` in a route. */
export const REPO = "([^/]+)/([^/]+)";
/** A revision segment: encoded (`refs%2Fpr%2F1`, as the clients send it) or, for refs, not. */
export const REV = "((?:refs/(?:pr|heads|tags|convert)/)?[^/]+)";

/** The repo from the first two captures and the revision from capture `revIndex`, or the Hub's errors. */
export function repoAtRev(call: Call, revIndex = 2): { repo: Repo; name: string; rev: string; at: ResolvedRev } {
  const name = `${call.params[0] ?? ""}/${call.params[1] ?? ""}`;
  const repo = readableRepo(call, name);
  const rev = call.params[revIndex] ?? "main";
  const at = call.hub.repos.resolve(repo, rev);
  if (!at) throw revisionNotFound(rev);
  return { repo, name, rev, at };
}
