import { HubApiError, whoAmI } from "@huggingface/hub";
import { CanceledError, forTerminal } from "@gguf-pipeline/core";
import { PublishError } from "../errors.js";
import { judgeToken } from "./judge-token.js";
import type { WhoAmIAnswer } from "./judge-token.js";
import { createRetryingFetch } from "../http/retrying-fetch.js";
import type { RetryPolicy } from "../http/retry-delay.js";

export interface CheckHubAccessParams {
  hubUrl: string;
  /** HF_TOKEN as found in the environment (undefined when unset). */
  accessToken: string | undefined;
  /** owner/name of every repo the publish will write. */
  repos: string[];
  fetch?: typeof fetch;
  /** Retries of the whoami request (tests shorten them). */
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

export interface CheckHubAccessOutput {
  /** The token's user (the card's quantized_by). */
  user: string;
}

/**
 * Before any work: HF_TOKEN is present and well-formed, the Hub accepts it (whoami), its role can write, and it may write
 * each repo's namespace (the user's own or one of its organizations). Otherwise one PublishError line, exit 2 (exit 1
 * when the Hub cannot be reached). The token itself never appears in a message.
 */
export async function checkHubAccess(params: CheckHubAccessParams): Promise<CheckHubAccessOutput> {
  const tokensUrl = `${params.hubUrl}/settings/tokens`;
  const problem = tokenProblem(params.accessToken);
  if (problem) throw new PublishError({ message: problem, exitCode: 2, hint: `set HF_TOKEN to a write token from ${tokensUrl}` });
  const accessToken = params.accessToken ?? "";
  const fetch = createRetryingFetch({ ...(params.fetch ? { fetch: params.fetch } : {}), ...(params.retry ? { policy: params.retry } : {}), ...(params.signal ? { signal: params.signal } : {}) });
  let whoami: WhoAmIAnswer;
  try {
    whoami = await whoAmI({ hubUrl: params.hubUrl, accessToken, fetch });
  } catch (error) {
    if (params.signal?.aborted) throw new CanceledError();
    if (error instanceof HubApiError && (error.statusCode === 401 || error.statusCode === 403)) {
      throw new PublishError({
        // The server's words are quoted, never trusted: one that echoes the Authorization header must not print the token.
        message: `HF_TOKEN was not accepted by ${params.hubUrl} (${error.statusCode}: ${forTerminal(firstSentence(error.message), { HF_TOKEN: accessToken })})`,
        exitCode: 2,
        statusCode: error.statusCode,
        hint: `the token is wrong, expired or revoked: create a write token at ${tokensUrl}`,
      });
    }
    const status = error instanceof HubApiError ? `HTTP ${error.statusCode}` : reason(error);
    throw new PublishError({ message: `cannot ask ${params.hubUrl} who HF_TOKEN belongs to (${status})`, exitCode: 1, hint: "check HF_ENDPOINT and the network, then run again", cause: error });
  }
  return judgeToken({ whoami, repos: params.repos, tokensUrl });
}

/** Why a token cannot be one, before the Hub sees it (the Hub client itself only checks the "hf_" prefix). */
function tokenProblem(token: string | undefined): string | undefined {
  if (token === undefined || token === "") return "HF_TOKEN is not set: publishing needs a Hugging Face write token";
  if (token.trim() !== token) return "HF_TOKEN has spaces or a line break around it (a copy-paste slip?)";
  if (!token.startsWith("hf_")) return 'HF_TOKEN is not a Hugging Face token: those start with "hf_"';
  if (!/^hf_[A-Za-z0-9_]{20,}$/.test(token)) return `HF_TOKEN is malformed: "hf_" then at least 20 letters and digits expected, found ${token.length} characters`;
  return undefined;
}

/** The Hub's error message up to its trailer (which names the URL). */
function firstSentence(message: string): string {
  return message.split(". URL:")[0]?.replace(/\.$/, "") ?? message;
}

function reason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = cause && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  return code ?? (error instanceof Error ? error.message : String(error));
}
