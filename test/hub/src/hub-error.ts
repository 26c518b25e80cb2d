/** An answer the Hub gives as an error: status, message (JSON `{ error }` or plain text) and the Hub's `X-Error-Code`. */
export class HubError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly headers: Record<string, string>;
  /** The resolve endpoints answer errors as plain text, the API as JSON. */
  readonly text: boolean;

  constructor(params: { status: number; message: string; code?: string; headers?: Record<string, string>; text?: boolean }) {
    super(params.message);
    this.name = "HubError";
    this.status = params.status;
    this.code = params.code;
    this.headers = params.headers ?? {};
    this.text = params.text ?? false;
  }
}

/**
 * A repo that does not exist or that the caller may not see. The Hub never tells the two apart: an anonymous caller
 * gets 401 "Invalid username or password.", an authenticated one 404 "Repository not found"; both with RepoNotFound.
 */
export function repoNotFound(authenticated: boolean): HubError {
  return authenticated
    ? new HubError({ status: 404, message: "Repository not found", code: "RepoNotFound" })
    : new HubError({ status: 401, message: "Invalid username or password.", code: "RepoNotFound" });
}

export function revisionNotFound(rev: string): HubError {
  return new HubError({ status: 404, message: `Invalid rev id: ${rev}`, code: "RevisionNotFound" });
}

export function entryNotFound(text = false): HubError {
  return new HubError({ status: 404, message: "Entry not found", code: "EntryNotFound", text });
}

export function badRequest(message: string): HubError {
  return new HubError({ status: 400, message });
}

export function forbidden(message: string): HubError {
  return new HubError({ status: 403, message });
}

/** A token the Hub does not know: rejected on every endpoint, even public reads. */
export function invalidCredentials(): HubError {
  return new HubError({ status: 401, message: "Invalid credentials in Authorization header" });
}
