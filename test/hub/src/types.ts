/** A token the local Hub accepts (`Authorization: Bearer <token>`), as the Hub's fine-grained roles reduce to. */
export interface HubTokenInfo {
  user: string;
  role: "read" | "write";
  /** Organizations the user belongs to (write tokens may write to them). */
  orgs?: string[];
}

export interface StartHubParams {
  /** Where repos, commits and objects live. Default: a new temp folder, removed by `stop()`. */
  dir?: string;
  /** Default 0: a free port. The server only ever listens on 127.0.0.1. */
  port?: number;
  /** Default: {@link DEFAULT_WRITE_TOKEN} (write) and {@link DEFAULT_READ_TOKEN} (read) for user "test-user". */
  tokens?: Record<string, HubTokenInfo>;
  /**
   * LFS objects of `threshold` bytes or more get a multipart upload of `chunkSize` parts.
   * Default 20 MB / 10 MB (ours; the Hub's own values are not published). `repos/create` also honours the Hub's `lfsmultipartthresh`.
   */
  multipart?: { threshold: number; chunkSize: number };
  /** Entries per page of `tree` listings (the Hub pages at 1000; llama.cpp reads only the first page). Default 1000. */
  pageSize?: number;
}

/** One request as the Hub saw it. */
export interface HubRequest {
  method: string;
  /** The URL path, as sent (still percent-encoded), without the query. */
  path: string;
  query: string;
  /** 0 when the connection was dropped by an injected fault. */
  status: number;
  /**
   * A request that changes state or carries bytes to store: repos/create, an LFS batch for upload, a PUT of bytes,
   * a multipart completion, a commit; also any non-GET/HEAD request the Hub does not know (so a stray one is never missed).
   * Not writes: GET/HEAD, the read-only POSTs (`preupload`, `paths-info`, `validate-yaml`), LFS `verify` and download batches.
   */
  write: boolean;
  /** The user the token belongs to, if any. */
  user?: string;
  fault?: "drop" | "status" | "hang";
  /** For a 500 the Hub itself caused (a bug here, not an injected fault): what went wrong. */
  error?: string;
}

/** A failure to inject into matching requests, in order, `times` times (default 1; `Infinity` for a permanent one). */
export interface HubFault {
  match?: {
    method?: string;
    /** Tested against the percent-encoded path (no query); a string is read as a regular expression. */
    pathPattern?: RegExp | string;
  };
  /**
   * "drop": the socket is destroyed without an answer: once `afterBytes` of the request body arrived
   * (default: half its Content-Length), or at once for a request without a body.
   * "status": answers `status` (default 500) with a JSON `{ error }` body, and `Retry-After` when given.
   * "hang": accepts the request and never answers (a proxy or a Hub that stalls).
   */
  kind: "drop" | "status" | "hang";
  status?: number;
  /**
   * For "status": the JSON `error` text instead of the status's own words; `{authorization}` in it is replaced by the
   * request's Authorization header, as a careless proxy or server that echoes what it was sent would.
   */
  message?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  afterBytes?: number;
  times?: number;
  /** Let this many matching requests through first (e.g. 1 to fail the second page of a listing). Default 0. */
  skip?: number;
}

export interface HubFaultHandle {
  /** How many requests it has hit so far. */
  readonly hits: number;
  /** How many it will still hit. */
  readonly remaining: number;
  remove(): void;
}

export interface HubServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: pass it as `hubUrl`, `HF_ENDPOINT` or `MODEL_ENDPOINT`. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly HubRequest[];
  /** The requests that wrote (see {@link HubRequest.write}). */
  writeRequests(): HubRequest[];
  clearRequests(): void;
  inject(fault: HubFault): HubFaultHandle;
  clearFaults(): void;
  stop(): Promise<void>;
}
