import type { PreparedRecipe } from "./prepare-recipe.js";
import type { PublishAccess } from "./steps/run-context.js";

/**
 * The publish targets a recipe names, checked before any work: the Hub token (only ever from HF_TOKEN) can write the
 * repos; the Ollama settings are sound and its server (publish.ollama.host or OLLAMA_HOST), if any, answers. Throws
 * one line (exit 2) otherwise.
 */
export async function checkPublishAccess(params: { prepared: PreparedRecipe; env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<PublishAccess> {
  const publish = params.prepared.loaded.recipe.publish;
  const access: PublishAccess = {};
  if (publish?.hf) {
    const { checkHubAccess, hubEndpoint } = await import("@gguf-pipeline/publish");
    const hubUrl = hubEndpoint(params.env);
    const accessToken = params.env.HF_TOKEN;
    const repos = [publish.hf.repo, ...(publish.hf.adapterRepo ? [publish.hf.adapterRepo] : [])];
    // Written into a folder, not sent: no token, no server.
    if (publish.hf.folder) access.hf = { hubUrl, accessToken: "" };
    else {
      const { user } = await checkHubAccess({ hubUrl, accessToken, repos, ...(params.signal ? { signal: params.signal } : {}) });
      access.hf = { hubUrl, accessToken: accessToken ?? "", user };
    }
  }
  const ollama = publish?.ollama;
  if (ollama) {
    const { checkOllamaAccess, checkOllamaSettings, ollamaHost } = await import("@gguf-pipeline/publish");
    checkOllamaSettings({ settings: { ...ollama, push: ollama.push ?? false, insecure: ollama.insecure ?? false }, ...(params.prepared.loaded.recipe.adapters ? { adapters: params.prepared.loaded.recipe.adapters } : {}), merge: params.prepared.merge, file: params.prepared.loaded.file });
    const host = ollamaHost({ settings: ollama, env: params.env });
    if (host) await checkOllamaAccess({ host, ...(params.signal ? { signal: params.signal } : {}) });
    access.ollama = host ? { host } : {};
  }
  return access;
}
