import { HubApiError, createRepo } from "@huggingface/hub";
import { CanceledError, formatBytes, refreshLinked } from "@gguf-pipeline/core";
import type { HubPublication, StageEvent } from "@gguf-pipeline/core";
import type { Toolchain } from "@gguf-pipeline/native";
import { collectLocalFiles } from "./collect-local-files.js";
import { commitPlan } from "./commit-plan.js";
import { PublishError } from "../errors.js";
import { gitBlobOidOfFile } from "./git-blob-oid.js";
import { planChanges, planCommit } from "./plan-commit.js";
import type { LocalFile, PlannedFile, RemoteFile } from "./plan-commit.js";
import type { HubSettings, PublishInput } from "../publish-types.js";
import { readRemote, statusError } from "./read-remote.js";
import type { RemoteState } from "./read-remote.js";
import { repoTargets } from "./repo-targets.js";
import type { RepoTarget } from "./repo-targets.js";
import { repoTextFiles } from "./repo-text-files.js";
import { stageHubFolder } from "./stage-hub-folder.js";
import { createRetryingFetch, retryWarnings } from "../http/retrying-fetch.js";
import type { RetryNotice } from "../http/retrying-fetch.js";
import type { RetryPolicy } from "../http/retry-delay.js";

export interface PublishToHubParams extends PublishInput {
  settings: HubSettings;
  hubUrl: string;
  accessToken: string;
  /** Plan only: no write request reaches the Hub (a split over the limit is still made locally). */
  dryRun?: boolean;
  /** llama-gguf-split, for files over the per-file limit. */
  toolchain?: Toolchain;
  /** The Hub's per-file limit; default 50 GB (tests set it small). */
  maxFileBytes?: number;
  /** The card's quantized_by (the token's user, from checkHubAccess); default the repo's owner. */
  quantizedBy?: string;
  /** Upload through Xet when the Hub offers it; default false: classic LFS, streamed from disk (see the README). */
  useXet?: boolean;
  /** Retries of every request (tests shorten the waits). */
  retry?: Partial<RetryPolicy>;
  /** File bodies in flight at once; default 6. */
  maxConcurrentUploads?: number;
  /** Called with every chunk read from disk for the upload (the bench counts reads with it). */
  onRead?: (bytes: number) => void;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export const HUB_MAX_FILE_BYTES = 50_000_000_000;

const stage = "publish-hf";

/**
 * Publishes the run to the Hub: per repo (the model's, and the adapters' when `adapterRepo` is set), the run's files
 * (never stray files from the output folder), README.md and report.json, in ONE commit, and none when nothing changed.
 * Yields StageEvents ("publish-hf"); returns what happened per repo. `dryRun` returns the same plan without writing.
 */
export async function* publishToHub(params: PublishToHubParams): AsyncGenerator<StageEvent, HubPublication[]> {
  const started = Date.now();
  const targets = repoTargets({ settings: params.settings, artifacts: params.report.artifacts });
  const verb = params.settings.folder ? "Write the commit to" : params.dryRun ? "Plan the publish to" : "Publish to";
  yield { type: "start", stage, title: `${verb} ${targets.map((t) => t.repo).join(" and ")}` };
  const publications: HubPublication[] = [];
  for (const target of targets) publications.push(yield* publishRepo(params, target));
  const seconds = (Date.now() - started) / 1000;
  yield { type: "done", stage, title: publications.map(summary).join("; "), seconds, cached: publications.every((p) => !p.commit) };
  return publications;
}

async function* publishRepo(params: PublishToHubParams, target: RepoTarget): AsyncGenerator<StageEvent, HubPublication> {
  const branch = params.settings.branch ?? "main";
  const signal = params.signal ? { signal: params.signal } : {};
  const parts = yield* collectLocalFiles({ outDir: params.outDir, artifacts: target.artifacts, maxFileBytes: params.maxFileBytes ?? HUB_MAX_FILE_BYTES, stage, ...(params.toolchain ? { toolchain: params.toolchain } : {}), ...signal });
  const quantizedBy = params.quantizedBy ?? params.settings.repo.split("/")[0];
  const { files: texts, warnings } = await repoTextFiles({ input: params, settings: params.settings, target, artifacts: parts.map((p) => p.artifact), hubUrl: params.hubUrl, ...(quantizedBy ? { quantizedBy } : {}) });
  for (const message of warnings) yield { type: "log", stage, level: "warn", message };
  const clash = texts.find((t) => parts.some((p) => p.artifact.path === t.path));
  if (clash) throw new PublishError({ message: `the run has a file named ${clash.path}, which the publish writes itself`, exitCode: 2, file: clash.path, repo: target.repo, hint: "leave it out with publish.hf.files" });
  const local: LocalFile[] = [...parts.map((p): LocalFile => ({ path: p.artifact.path, bytes: p.artifact.bytes, sha256: p.artifact.sha256, source: { kind: "file", file: p.file } })), ...texts];
  if (params.settings.folder) {
    const { changed, ...staged } = await stageHubFolder({ outDir: params.outDir, folder: params.settings.folder, repo: target.repo, hubUrl: params.hubUrl, branch, files: local });
    // Linking the run's files moved their ctime, not their bytes: the next run need not hash them again.
    if (changed) await refreshLinked({ outDir: params.outDir, paths: target.artifacts.map((a) => a.path) });
    yield { type: "progress", stage, message: `${target.repo}: ${local.length} files ${changed ? "written" : "unchanged"} in ${staged.folder ?? ""} (not sent)` };
    return staged;
  }
  const notices: RetryNotice[] = [];
  const fetch = createRetryingFetch({ onRetry: (n) => notices.push(n), ...(params.fetch ? { fetch: params.fetch } : {}), ...(params.retry ? { policy: params.retry } : {}), ...signal });
  const read = () => readRemote({ hubUrl: params.hubUrl, accessToken: params.accessToken, repo: target.repo, branch, paths: local.map((f) => f.path), fetch });
  let remote = await read().catch(canceled(params));
  yield* retryWarnings(notices, stage);
  if (!remote.exists && !params.dryRun) {
    await ensureRepo(params, target.repo, fetch);
    yield { type: "log", stage, level: "info", message: `created ${params.settings.private ? "private " : ""}repo ${target.repo}` };
    remote = await read().catch(canceled(params));
    yield* retryWarnings(notices, stage);
  }
  for (let round = 1; ; round++) {
    const plan = await planFor(local, remote, params.signal);
    const deleting = plan.filter((f) => f.action === "delete").map((f) => f.path);
    // Never silent: a deletion is named before it happens (and in a dry run).
    if (deleting.length > 0) yield { type: "log", stage, level: "warn", message: `${target.repo}: ${params.dryRun ? "would delete" : "deletes"} ${deleting.length} file(s) an earlier publish of this recipe made that this one leaves out: ${deleting.join(", ")}` };
    const publication: HubPublication = { repo: target.repo, endpoint: params.hubUrl, branch, files: plan.map(({ path, action, bytes, sha256 }) => ({ path, action, bytes, ...(sha256 ? { sha256 } : {}) })), uploadedBytes: 0 };
    yield { type: "progress", stage, message: `${target.repo}: ${planLine(plan)}${remote.exists ? "" : " (new repo)"}` };
    if (params.dryRun || !remote.exists || !planChanges(plan)) return publication;
    try {
      const out = yield* commitPlan({
        hubUrl: params.hubUrl,
        accessToken: params.accessToken,
        repo: target.repo,
        branch,
        createPr: params.settings.createPr ?? false,
        parentCommit: remote.head,
        plan,
        ...commitMessage(params.settings, plan),
        fetch: params.fetch ?? globalThis.fetch,
        useXet: params.useXet ?? false,
        stage,
        ...(params.retry ? { retry: params.retry } : {}),
        ...(params.maxConcurrentUploads ? { maxConcurrentUploads: params.maxConcurrentUploads } : {}),
        ...(params.onRead ? { onRead: params.onRead } : {}),
        ...signal,
      });
      yield { type: "log", stage, level: "info", message: `${target.repo}: ${out.commit.pullRequestUrl ? `opened ${out.commit.pullRequestUrl}` : `committed ${out.commit.commit.oid.slice(0, 12)}`}` };
      return { ...publication, commit: out.commit.commit, ...(out.commit.pullRequestUrl ? { pullRequestUrl: out.commit.pullRequestUrl } : {}), uploadedBytes: out.uploadedBytes };
    } catch (error) {
      // The branch moved: perhaps our own commit landed and only its answer was lost. Read again and compare.
      if (!(error instanceof PublishError && error.statusCode === 412) || round > 1) throw error;
      remote = await read().catch(canceled(params));
      yield* retryWarnings(notices, stage);
      if (!remote.exists) throw error;
      const again = await planFor(local, remote, params.signal);
      if (!planChanges(again)) {
        yield { type: "log", stage, level: "info", message: `${target.repo}: the branch already holds these files (commit ${remote.head.slice(0, 12)})` };
        return { ...publication, commit: { oid: remote.head, url: `${params.hubUrl}/${target.repo}/commit/${remote.head}` } };
      }
      yield { type: "log", stage, level: "warn", message: `${target.repo}@${branch} moved while publishing; planning again on ${remote.head.slice(0, 12)}` };
    }
  }
}

/** The plan against the remote; small local files get their git blob id where the remote keeps that path outside LFS. */
async function planFor(local: LocalFile[], remote: RemoteState, signal: AbortSignal | undefined): Promise<PlannedFile[]> {
  if (!remote.exists) return planCommit({ local, remote: [], previous: [] });
  const byPath = new Map<string, RemoteFile>(remote.files.map((f) => [f.path, f]));
  const withOids = await Promise.all(
    local.map(async (f) => {
      const there = byPath.get(f.path);
      if (f.gitOid || f.source.kind !== "file" || !there || there.lfs || there.size !== f.bytes) return f;
      return { ...f, gitOid: await gitBlobOidOfFile({ file: f.source.file, bytes: f.bytes, ...(signal ? { signal } : {}) }) };
    }),
  );
  return planCommit({ local: withOids, remote: remote.files, previous: remote.previous });
}

async function ensureRepo(params: PublishToHubParams, repo: string, fetch: typeof globalThis.fetch): Promise<void> {
  try {
    await createRepo({ repo: { type: "model", name: repo }, hubUrl: params.hubUrl, accessToken: params.accessToken, fetch, ...(params.settings.private ? { visibility: "private" as const } : {}) });
  } catch (error) {
    if (params.signal?.aborted) throw new CanceledError();
    // 409: it exists (made meanwhile, or hidden from a read): fine.
    if (error instanceof HubApiError && error.statusCode === 409) return;
    if (error instanceof HubApiError) throw statusError(repo, error.statusCode, `creating ${repo}`);
    throw new PublishError({ message: `cannot create ${repo} (${error instanceof Error ? error.message : String(error)})`, exitCode: 1, repo, cause: error });
  }
}

function commitMessage(settings: HubSettings, plan: PlannedFile[]): { title: string; description: string } {
  const count = (action: string) => plan.filter((f) => f.action === action).length;
  const parts = [["add", count("add")], ["update", count("update")], ["delete", count("delete")]].filter(([, n]) => Number(n) > 0).map(([a, n]) => `${a} ${n}`);
  const title = settings.commitMessage ?? `Publish GGUF files with gguf-pipeline (${parts.join(", ")})`;
  const description = plan
    .filter((f) => f.action !== "unchanged")
    .map((f) => `- ${f.action} ${f.path} (${formatBytes(f.bytes)})`)
    .join("\n");
  return { title, description };
}

function planLine(plan: PlannedFile[]): string {
  const of = (action: string) => plan.filter((f) => f.action === action);
  const upload = [...of("add"), ...of("update")];
  return `${upload.length} to upload (${formatBytes(upload.reduce((n, f) => n + f.bytes, 0))}), ${of("unchanged").length} unchanged, ${of("delete").length} to delete`;
}

function summary(p: HubPublication): string {
  if (p.folder) return `${p.repo}: written to ${p.folder} (not sent)`;
  if (p.pullRequestUrl) return `${p.repo}: pull request ${p.pullRequestUrl} (${formatBytes(p.uploadedBytes)} uploaded)`;
  if (p.commit) return `${p.repo}: commit ${p.commit.oid.slice(0, 12)} (${formatBytes(p.uploadedBytes)} uploaded)`;
  return p.files.some((f) => f.action !== "unchanged") ? `${p.repo}: planned, nothing sent` : `${p.repo}: up to date, no commit`;
}

function canceled(params: PublishToHubParams): (error: unknown) => never {
  return (error) => {
    if (params.signal?.aborted) throw new CanceledError();
    throw error;
  };
}
