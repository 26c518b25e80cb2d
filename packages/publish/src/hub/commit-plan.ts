import { HubApiError, commitIter } from "@huggingface/hub";
import type { CommitOperation, CommitOutput, CommitProgressEvent } from "@huggingface/hub";
import { CanceledError, formatBytes } from "@gguf-pipeline/core";
import type { StageEvent } from "@gguf-pipeline/core";
import { LocalFileError, PublishError } from "../errors.js";
import { FileBlob } from "../http/file-blob.js";
import { formatRate } from "../http/format-size.js";
import { createMeteredFetch } from "../http/metered-fetch.js";
import type { PlannedFile } from "./plan-commit.js";
import { createRetryingFetch, retryWarnings } from "../http/retrying-fetch.js";
import type { RetryNotice } from "../http/retrying-fetch.js";
import type { RetryPolicy } from "../http/retry-delay.js";
import { UploadMeter } from "../http/upload-meter.js";
import { withTicks } from "../http/with-ticks.js";

export interface CommitPlanParams {
  hubUrl: string;
  accessToken: string;
  repo: string;
  branch: string;
  createPr: boolean;
  /** The head the plan was made against: a commit on anything else is refused (412), never applied twice. */
  parentCommit: string;
  plan: PlannedFile[];
  title: string;
  description: string;
  fetch: typeof fetch;
  retry?: Partial<RetryPolicy>;
  maxConcurrentUploads?: number;
  useXet: boolean;
  stage: string;
  /** Counts every byte read from disk for the upload (the client's own sha256 pass included). */
  onRead?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface CommitPlanOutput {
  commit: CommitOutput;
  /** File bytes sent: LFS uploads, and the files the commit itself carried. */
  uploadedBytes: number;
}

const TICK_MS = 500;

/**
 * Makes the plan's one commit with the Hub client's commitIter: changed files streamed from disk through LFS (basic or
 * multipart, as the Hub answers), deletions, and the text files inline. Yields progress (bytes and rate) while it
 * uploads and a warning per retry. A failure leaves no commit and throws a PublishError naming the file.
 */
export async function* commitPlan(params: CommitPlanParams): AsyncGenerator<StageEvent, CommitPlanOutput> {
  const { stage } = params;
  const changed = params.plan.filter((f) => f.action === "add" || f.action === "update");
  const meter = new UploadMeter({ total: changed.reduce((n, f) => n + (f.local?.source.kind === "file" ? f.bytes : 0), 0) });
  const notices: RetryNotice[] = [];
  const gaveUp: { last?: Omit<RetryNotice, "delayMs"> } = {};
  const sentThroughLfs = new Set<string>();
  const metered = createMeteredFetch({ fetch: params.fetch, meter, ...(params.maxConcurrentUploads ? { maxConcurrent: params.maxConcurrentUploads } : {}), ...(params.signal ? { signal: params.signal } : {}) });
  const retrying = createRetryingFetch({ fetch: metered, onRetry: (n) => notices.push(n), onGiveUp: (n) => (gaveUp.last = n), ...(params.retry ? { policy: params.retry } : {}), ...(params.signal ? { signal: params.signal } : {}) });
  const iterator = commitIter({
    repo: { type: "model", name: params.repo },
    hubUrl: params.hubUrl,
    accessToken: params.accessToken,
    fetch: guardLfsBatch(retrying, changed, sentThroughLfs),
    operations: operations(params.plan, params.onRead),
    title: params.title,
    description: params.description,
    branch: params.branch,
    isPullRequest: params.createPr,
    parentCommit: params.parentCommit,
    useXet: params.useXet,
    ...(params.signal ? { abortSignal: params.signal } : {}),
  });
  const hashing = new Map<string, number>();
  let phase: string | undefined;
  try {
    const steps = withTicks(iterator, TICK_MS);
    for (;;) {
      const step = await steps.next();
      yield* retryWarnings(notices, stage);
      if (step.done) {
        if (!step.value) throw new PublishError({ message: "the Hub client returned no commit", exitCode: 1, repo: params.repo });
        const inline = changed.filter((f) => !sentThroughLfs.has(f.sha256 ?? "")).reduce((n, f) => n + f.bytes, 0);
        return { commit: step.value, uploadedBytes: meter.uploaded + inline };
      }
      if (step.value.kind === "item") {
        const event = step.value.value;
        if (event.event === "phase") phase = event.phase;
        const line = describeEvent(event, hashing, params);
        if (line) yield { type: "progress", stage, message: line };
      } else if (phase === "uploadingLargeFiles") {
        yield hashing.size > 0 ? hashingProgress(hashing, stage) : uploadProgress(meter, stage);
      }
    }
  } catch (error) {
    throw commitFailure(error, params, gaveUp.last);
  }
}

function operations(plan: PlannedFile[], onRead: ((bytes: number) => void) | undefined): CommitOperation[] {
  return plan.flatMap((f): CommitOperation[] => {
    if (f.action === "delete") return [{ operation: "delete", path: f.path }];
    if (f.action === "unchanged" || !f.local) return [];
    const { source } = f.local;
    const content = source.kind === "file" ? new FileBlob({ file: source.file, size: f.bytes, label: f.path, ...(onRead ? { onRead } : {}) }) : new Blob([source.content]);
    return [{ operation: "addOrUpdate", path: f.path, content }];
  });
}

/**
 * The client hashes every file it uploads before asking the LFS batch API where to put it. Those hashes must be the
 * report's: a file that changed since the run is stopped here, before any byte of it is sent.
 */
function guardLfsBatch(inner: typeof fetch, changed: PlannedFile[], sent: Set<string>): typeof fetch {
  const expected = new Set(changed.map((f) => f.sha256));
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.endsWith("/info/lfs/objects/batch") && typeof init?.body === "string") {
      const body = JSON.parse(init.body) as { operation?: string; objects?: { oid: string; size: number }[] };
      const oids = new Set((body.objects ?? []).map((o) => o.oid));
      for (const object of body.objects ?? []) {
        if (expected.has(object.oid)) {
          sent.add(object.oid);
          continue;
        }
        const suspect = changed.find((f) => f.bytes === object.size && !oids.has(f.sha256 ?? "") && f.local?.source.kind === "file");
        const file = suspect?.local?.source.kind === "file" ? suspect.local.source.file : (suspect?.path ?? "a file");
        throw new LocalFileError({ file, message: `${suspect?.path ?? "a file"} no longer has the sha256 report.json records (it changed after the run)` });
      }
    }
    return inner(input, init);
  };
}

function describeEvent(event: CommitProgressEvent, hashing: Map<string, number>, params: CommitPlanParams): string | undefined {
  if (event.event === "phase") {
    if (event.phase === "committing") return `${params.repo}: committing to ${params.createPr ? `a pull request on ${params.branch}` : params.branch}`;
    return undefined;
  }
  if (event.state === "hashing") {
    if (event.progress >= 1) hashing.delete(event.path);
    else hashing.set(event.path, event.progress);
    return undefined;
  }
  if (event.state === "uploading" && event.progress >= 1) return `${event.path}: uploaded`;
  return undefined;
}

function hashingProgress(hashing: Map<string, number>, stage: string): StageEvent {
  const [path, ratio = 0] = [...hashing.entries()].sort(([a], [b]) => (a < b ? -1 : 1))[0] ?? [];
  const more = hashing.size > 1 ? ` (+${hashing.size - 1} more)` : "";
  return { type: "progress", stage, message: `${path ?? ""}: checking its sha256 against report.json, ${Math.round(ratio * 100)}%${more}`, ratio };
}

function uploadProgress(meter: UploadMeter, stage: string): StageEvent {
  const s = meter.snapshot();
  const ratio = s.total > 0 ? Math.min(1, s.sent / s.total) : 1;
  const files = s.active.length ? ` (${s.active.length === 1 ? s.active[0] : `${s.active.length} files`})` : "";
  return { type: "progress", stage, message: `uploading ${formatBytes(s.sent)} / ${formatBytes(s.total)}, ${formatRate(s.rate)}${files}`, ratio };
}

/** One PublishError for any failure of the commit, naming the file that could not be sent when there is one. */
function commitFailure(error: unknown, params: CommitPlanParams, gaveUp: Omit<RetryNotice, "delayMs"> | undefined): unknown {
  if (params.signal?.aborted) return new CanceledError({ message: `publishing to ${params.repo} was interrupted; nothing was committed` });
  if (error instanceof PublishError) return error;
  const status = error instanceof HubApiError ? error.statusCode : undefined;
  // A file body refused by the storage (its presigned URL, not the token): after the Hub restarted, or a URL that expired.
  if ((status === 401 || status === 403) && gaveUp?.file) {
    return new PublishError({ message: `the storage refused the upload of ${gaveUp.file} to ${params.repo} (${status} on its presigned upload URL: expired, or the Hub was restarted)`, exitCode: 1, file: gaveUp.file, repo: params.repo, statusCode: status, hint: "run again: the upload starts over with new URLs (files already uploaded are not sent again); nothing was committed", cause: error });
  }
  if (status === 401 || status === 403) {
    return new PublishError({ message: `the Hub refused the upload to ${params.repo} (${status})`, exitCode: 2, repo: params.repo, statusCode: status, hint: "check that HF_TOKEN may write this repo", cause: error });
  }
  if (status === 412) return new PublishError({ message: `${params.repo}@${params.branch} moved while publishing (412)`, exitCode: 1, repo: params.repo, statusCode: 412, cause: error });
  const hint = "nothing was committed; run again to finish (files already uploaded are not sent again)";
  const statusFact = status !== undefined ? { statusCode: status } : {};
  if (gaveUp?.file) {
    const tries = gaveUp.attempt > 1 ? ` after ${gaveUp.attempt} attempts` : "";
    return new PublishError({ message: `uploading to ${params.repo} failed${tries}: ${gaveUp.reason}`, exitCode: 1, file: gaveUp.file, repo: params.repo, ...statusFact, hint, cause: error });
  }
  const why = gaveUp ? `${gaveUp.method} ${gaveUp.path}: ${gaveUp.reason}${gaveUp.attempt > 1 ? ` after ${gaveUp.attempt} attempts` : ""}` : error instanceof Error ? error.message : String(error);
  return new PublishError({ message: `publishing to ${params.repo} failed (${why})`, exitCode: 1, repo: params.repo, ...statusFact, hint, cause: error });
}
