import { PublishError } from "../errors.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";

/**
 * The Hub to publish to: HF_ENDPOINT (as the Python client and llama.cpp read it) or the public Hub, without a trailing
 * slash. The JS client ignores the variable, so this is passed to it as `hubUrl`.
 */
export function hubEndpoint(env: NodeJS.ProcessEnv): string {
  const value = env.HF_ENDPOINT?.trim();
  if (!value) return DEFAULT_HUB_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PublishError({ message: `HF_ENDPOINT is not a URL: ${JSON.stringify(value)}`, exitCode: 2, hint: "set it to the Hub's address, e.g. https://huggingface.co, or unset it" });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new PublishError({ message: `HF_ENDPOINT must be an http(s) URL, not ${url.protocol}`, exitCode: 2, hint: "set it to the Hub's address, e.g. https://huggingface.co, or unset it" });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new PublishError({ message: "HF_ENDPOINT must be a plain address (no credentials, query or fragment)", exitCode: 2, hint: "the token comes from HF_TOKEN only" });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
