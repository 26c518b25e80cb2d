import type { OllamaSettings } from "../publish-types.js";

export interface OllamaHostParams {
  settings: OllamaSettings;
  env: NodeJS.ProcessEnv;
}

/**
 * The server to create the tags on: `settings.host`, else OLLAMA_HOST, as a URL without a trailing slash; undefined
 * when neither is set (then only the Modelfile folders are written). Read the way Ollama's own client reads
 * OLLAMA_HOST (envconfig.Host): `http` when no scheme is given, port 11434 when no port is given (80 and 443 for an
 * explicit http:// or https://), and a bind-all address (0.0.0.0, ::) means this machine.
 */
export function ollamaHost(params: OllamaHostParams): string | undefined {
  const raw = params.settings.host ?? params.env.OLLAMA_HOST;
  const given = raw?.trim().replace(/^["']|["']$/g, "");
  if (!given) return undefined;
  return normaliseOllamaHost(given);
}

/** `127.0.0.1:11434`, `http://box`, `https://ollama.example.com/base` → a base URL. */
export function normaliseOllamaHost(value: string): string {
  const [scheme, rest] = value.includes("://") ? [value.slice(0, value.indexOf("://")), value.slice(value.indexOf("://") + 3)] : ["http", value];
  const defaultPort = !value.includes("://") ? "11434" : scheme === "https" ? "443" : scheme === "http" ? "80" : "11434";
  const slash = rest.indexOf("/");
  const hostport = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash).replace(/\/+$/, "");
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostport);
  const plain = /^([^:]*)(?::(\d+))?$/.exec(hostport);
  let host = bracketed?.[1] ?? plain?.[1] ?? hostport;
  const port = bracketed?.[2] ?? plain?.[2] ?? defaultPort;
  if (!host || host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  const shown = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}${path}`;
}
