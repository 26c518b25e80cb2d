#!/usr/bin/env node
// Memory benchmark: the publishing process's own peak RSS while it uploads a multi-GB file to the local test Hub.
// Flat means: the same peak for a 1 MB file and for a 4 GB one (files are streamed from disk, never held in memory).
//
//   node bench/publish-memory.mjs [--sizes 0.001,1,4] [--dir /tmp]
//
// The Hub runs in its own process (test/hub/dist/bin.js, as `npm run test-hub` starts it), so its memory is not
// counted. Each size runs publishToHub (what `pipeline publish` calls) in a fresh child process, on a generated file
// of random bytes named like a quant; the child samples its own RSS every 50 ms and also reports the kernel's peak
// (ru_maxrss), the bytes read from disk for the upload, how long the Hub client's own sha256 pass took (first read to
// its LFS batch request) and the upload after it (batch request to the commit's answer).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { clearInterval, setInterval } from "node:timers";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = `hf_${"b".repeat(34)}`;
const { values } = parseArgs({ options: { sizes: { type: "string", default: "0.001,1,4" }, dir: { type: "string", default: tmpdir() }, child: { type: "string" } } });

if (values.child) await child(JSON.parse(values.child));
else await main();

async function main() {
  const work = mkdtempSync(join(values.dir, "bench-publish-"));
  const hub = spawn("node", [join(root, "test", "hub", "dist", "bin.js"), "--port", "0", "--dir", join(work, "hub"), "--token", TOKEN, "--user", "bench"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = String((await createInterface({ input: hub.stdout })[Symbol.asyncIterator]().next()).value);
    const rows = [];
    for (const gb of values.sizes.split(",").map(Number)) {
      const bytes = Math.round(gb * 1e9);
      const outDir = join(work, `out-${gb}`);
      const file = join(outDir, "Bench-Q4_K_M.gguf");
      const sha256 = await writeRandomFile(file, bytes);
      const report = { schemaVersion: 1, recipe: { path: "bench", sha256: "0".repeat(64) }, startedAt: "", finishedAt: "", tools: { llamaCppCommit: "bench", llamaCppSource: "bench", python: "", packages: {}, pipeline: "bench" }, stages: [], artifacts: [{ path: "Bench-Q4_K_M.gguf", stage: "quantize", sha256, bytes, ggufType: "Q4_K_M", cacheKey: "bench", quant: { type: "Q4_K_M", bitsPerWeight: 4.8 } }] };
      writeFileSync(join(outDir, "report.json"), JSON.stringify(report));
      const run = spawnSync("node", [fileURLToPath(import.meta.url), "--child", JSON.stringify({ url, outDir, repo: `bench/mem-${String(gb).replace(".", "_")}` })], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      if (run.status !== 0) throw new Error(`child failed for ${gb} GB`);
      rows.push({ bytes, ...JSON.parse(run.stdout.trim().split("\n").at(-1)) });
      rmSync(outDir, { recursive: true, force: true });
    }
    const mb = (n) => (n / 1e6).toFixed(0);
    console.log("| file | peak RSS (sampled) | peak RSS (kernel) | hashing | uploading | upload rate | read from disk |");
    console.log("|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${mb(r.bytes)} MB | ${mb(r.peakRss)} MB | ${mb(r.maxRss)} MB | ${r.hashSeconds.toFixed(1)} s | ${r.uploadSeconds.toFixed(1)} s | ${mb(r.bytes / r.uploadSeconds)} MB/s | ${(r.readBytes / r.bytes).toFixed(2)} × the file |`);
    }
  } finally {
    hub.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

/** Random bytes from a 64 MiB random block written over and over (the upload path does not care), and their sha256. */
async function writeRandomFile(file, bytes) {
  mkdirSync(join(file, ".."), { recursive: true });
  const block = randomFillSync(Buffer.allocUnsafe(64 << 20));
  const out = createWriteStream(file);
  for (let left = bytes; left > 0; left -= block.length) {
    const chunk = left >= block.length ? block : block.subarray(0, left);
    if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest("hex");
}

async function child({ url, outDir, repo }) {
  const { publishToHub } = await import(pathToFileURL(join(root, "packages", "publish", "dist", "index.js")).href);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  let readBytes = 0;
  let firstRead;
  let batchAt;
  const onRead = (n) => {
    firstRead ??= performance.now();
    readBytes += n;
  };
  // The client asks the LFS batch API where to upload once it has hashed every file: the end of its sha256 pass.
  const timedFetch = (input, init) => {
    if (batchAt === undefined && String(input).endsWith("/info/lfs/objects/batch")) batchAt = performance.now();
    return globalThis.fetch(input, init);
  };
  const report = JSON.parse(readFileSync(join(outDir, "report.json"), "utf8"));
  const run = publishToHub({ outDir, report, recipeDir: outDir, source: { dir: outDir, name: "bench" }, settings: { repo, private: false, branch: "main", createPr: false }, hubUrl: url, accessToken: TOKEN, onRead, fetch: timedFetch });
  for (;;) {
    const next = await run.next();
    if (next.done) break;
    if (next.value.type === "progress" && process.env.BENCH_VERBOSE) process.stderr.write(`${next.value.message}\n`);
  }
  const ended = performance.now();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const hashSeconds = ((batchAt ?? ended) - (firstRead ?? ended)) / 1000;
  const uploadSeconds = (ended - (batchAt ?? ended)) / 1000;
  console.log(JSON.stringify({ peakRss, maxRss: process.resourceUsage().maxRSS * 1024, readBytes, hashSeconds, uploadSeconds }));
}
