import type { IncomingMessage, ServerResponse } from "node:http";
import { HubError, forbidden, repoNotFound } from "./hub-error.js";
import type { ObjectStore } from "./object-store.js";
import type { OllamaBlobs } from "./ollama/ollama-blobs.js";
import type { Repo, RepoStore } from "./repo-store.js";
import type { HubTokenInfo } from "./types.js";
import type { UrlSigner } from "./url-signer.js";

export interface MultipartUpload {
  repo: string;
  oid: string;
  size: number;
  chunkSize: number;
  dir: string;
  /** Part number → the ETag its PUT answered. */
  etags: Map<number, string>;
}

/** What every handler shares: the stores, the options, the signer, multipart uploads in flight. */
export interface HubContext {
  /** `http://127.0.0.1:PORT`: links, upload and download URLs are absolute, as the Hub's are. */
  baseUrl: string;
  repos: RepoStore;
  objects: ObjectStore;
  tokens: Record<string, HubTokenInfo>;
  multipart: { threshold: number; chunkSize: number };
  pageSize: number;
  signer: UrlSigner;
  uploads: Map<string, MultipartUpload>;
  /** What the Ollama registry endpoints made up (configs, template/system/params layers) and GGUF headers read. */
  ollama: OllamaBlobs;
}

export interface Caller extends HubTokenInfo {
  token: string;
}

/** One request being answered. */
export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The route's captures, percent-decoded. */
  params: string[];
  caller: Caller | undefined;
  hub: HubContext;
  /** A handler that learns from the body whether the request writes (the LFS batch) says so here. */
  setWrite(write: boolean): void;
}

export interface Route {
  methods: string[];
  /** Matched against the percent-encoded path, so that an encoded "/" in a revision stays inside its segment. */
  pattern: RegExp;
  write: boolean;
  /** Presigned URLs: their credential is in the URL, and a stale Authorization header must not matter. */
  signed?: boolean;
  handle(call: Call): Promise<void>;
}

export function namespaceOf(repoName: string): string {
  return repoName.split("/")[0] ?? "";
}

/** Whether the caller's token covers this namespace (their own, or an org they belong to). */
export function ownsNamespace(caller: Caller | undefined, namespace: string): boolean {
  return !!caller && (caller.user === namespace || (caller.orgs ?? []).includes(namespace));
}

/** The repo, if the caller may see it; otherwise the Hub's "not found" (a private repo looks missing to others). */
export function readableRepo(call: Call, name: string): Repo {
  const repo = call.hub.repos.get(name);
  if (!repo || (repo.record.private && !ownsNamespace(call.caller, namespaceOf(name)))) throw repoNotFound(!!call.caller);
  return repo;
}

/** The repo, if the caller may write to it. */
export function writableRepo(call: Call, name: string): Repo {
  const repo = readableRepo(call, name);
  if (!call.caller) throw new HubError({ status: 401, message: "Invalid username or password." });
  if (!ownsNamespace(call.caller, namespaceOf(name))) throw forbidden(`You don't have the rights to write to ${name}`);
  if (call.caller.role !== "write") throw forbidden(`Your token is read-only: it cannot write to ${name}. Use a token with the "write" role.`);
  return repo;
}
