import { commonBudgets, formatBytes, smallestBudget, type Artifact, type EmbeddingQuality, type PerplexityQuality, type RunReport } from "@gguf-pipeline/core";
import type { ModelKind } from "./card-front-matter.js";
import { DEFAULT_HUB_URL } from "./hub-endpoint.js";

export interface CardSectionsParams {
  repo: string;
  repoKind: "model" | "adapter";
  report: RunReport;
  /** The files this repo holds, in the report's order. */
  artifacts: Artifact[];
  modelKind: ModelKind;
  hubUrl: string;
  /** For an adapter repo: the repo of the model its adapters apply to. */
  modelRepo?: string;
}

/** The card's body parts, also the placeholders a user template may use. */
export interface CardSections {
  files_table: string;
  usage: string;
  provenance: string;
  license: string;
}

interface Row {
  name: string;
  tag: string;
  parts: Artifact[];
  bytes: number;
}

const shardSuffix = /-\d{5}-of-\d{5}(\.gguf)$/;
const modelStages = new Set(["convert", "merge", "quantize"]);

/** Every body part of the card, from the report alone (no times: the same run makes the same card). */
export function cardSections(params: CardSectionsParams): CardSections {
  const rows = modelRows(params.artifacts);
  return { files_table: filesTable(params, rows), usage: usage(params, rows), provenance: provenance(params), license: license(params.report) };
}

/** Model files, a shard set as one row (named by its first part). */
function modelRows(artifacts: Artifact[]): Row[] {
  const rows = new Map<string, Row>();
  for (const a of artifacts) {
    if (!a.ggufType || !modelStages.has(a.stage)) continue;
    const key = a.path.replace(shardSuffix, "$1");
    const row = rows.get(key) ?? { name: a.path, tag: a.quant?.type ?? a.ggufType, parts: [], bytes: 0 };
    row.parts.push(a);
    row.bytes += a.bytes;
    rows.set(key, row);
  }
  return [...rows.values()];
}

function filesTable(params: CardSectionsParams, rows: Row[]): string {
  const embedding = params.modelKind === "embedding";
  // Memory to run each file (llama.cpp's own projection where there is one) and the common budgets it fits.
  const memoryOf = (row: Row) => params.report.validation?.files[row.parts[0]?.path ?? ""]?.memory?.[0];
  const memoryCtx = rows.map((r) => memoryOf(r)?.ctx).find((c) => c !== undefined);
  const memoryHead = memoryCtx ? [`Memory @${memoryCtx} ctx`, "Fits"] : [];
  const head = embedding ? ["File", "Type", "Size", "Bits/weight", ...memoryHead, "Cosine mean", "Cosine min", "sha256"] : ["File", "Type", "Size", "Bits/weight", ...memoryHead, "PPL", "KLD mean", "KLD p99", "Top-1", "sha256"];
  const lines = rows.map((row) => {
    const first = row.parts[0];
    const quality = first?.quality;
    const name = row.parts.length > 1 ? `${row.name} (${row.parts.length} parts)` : row.name;
    const bpw = first?.quant ? first.quant.bitsPerWeight.toFixed(2) : "—";
    const sha = row.parts.length > 1 ? "see report.json" : `\`${first?.sha256 ?? ""}\``;
    const measured = embedding ? cosine(quality?.kind === "embedding" ? quality : undefined) : perplexity(quality && quality.kind !== "embedding" ? quality : undefined);
    const memory = memoryOf(row);
    const bytes = memory ? (memory.projectedBytes ?? memory.estimatedBytes) : undefined;
    const budget = bytes === undefined ? undefined : smallestBudget(bytes);
    const fit = memoryCtx ? [bytes === undefined ? "—" : formatBytes(bytes), bytes === undefined ? "—" : budget ? commonBudgets.filter((b) => b >= budget).map((b) => `${b} GB`).join(", ") : "over 24 GB"] : [];
    return cells([name, row.tag, formatBytes(row.bytes), bpw, ...fit, ...measured, sha]);
  });
  const others = params.artifacts.filter((a) => !rows.some((r) => r.parts.includes(a)));
  const parts = rows.length ? [cells(head), cells(head.map(() => "---")), ...lines] : [];
  const note = qualityNote(params.artifacts, params.report.artifacts);
  if (note) parts.push("", note);
  if (memoryCtx) parts.push("", `Memory: what llama.cpp allocates to run the file at context ${memoryCtx} (weights, KV cache, compute buffers; flash attention on). Fits: the common memory sizes it runs in with 10% to spare.`);
  const chart = params.artifacts.find((a) => a.path.endsWith("-quality.svg"));
  if (chart) parts.push("", `![Size against quality: bits per weight against KL divergence and perplexity, coloured by the memory budget each file fits](${chart.path})`);
  if (others.length) {
    parts.push("", cells(["Other file", "What", "Size", "sha256"]), cells(["---", "---", "---", "---"]));
    for (const a of others) parts.push(cells([a.path, describe(a), formatBytes(a.bytes), `\`${a.sha256}\``]));
  }
  return parts.join("\n");
}

function perplexity(q: PerplexityQuality | undefined): string[] {
  if (!q) return ["—", "—", "—", "—"];
  return [q.ppl.toFixed(4), `${q.kldMean.toFixed(6)}${q.kldSe ? ` ± ${q.kldSe.toFixed(6)}` : ""}`, q.kldP99.toFixed(6), `${q.top1.toFixed(2)}%`];
}

function cosine(q: EmbeddingQuality | undefined): string[] {
  return q ? [q.cosineMean.toFixed(6), q.cosineMin.toFixed(6)] : ["—", "—"];
}

function qualityNote(artifacts: Artifact[], all: Artifact[]): string | undefined {
  const measured = artifacts.find((a) => a.quality)?.quality;
  if (!measured) return undefined;
  const reference = all.find((a) => a.stage === "convert" || a.stage === "merge")?.ggufType ?? "the high-precision reference";
  if (measured.kind === "embedding") return `Cosine: similarity of each file's embeddings to ${reference}'s over ${measured.passages} passages of \`${measured.text}\` (1 is identical).`;
  const over = measured.chunks ? ` (${measured.chunks} chunks of ${measured.ctx} tokens)` : "";
  const se = artifacts.some((a) => a.quality?.kind === "perplexity" && a.quality.kldSe) ? ", with its standard error (±) from the spread between batches of the text" : "";
  return `PPL: perplexity on \`${measured.text}\`${over} at context ${measured.ctx} (llama-perplexity). KLD: KL divergence of the token distributions from ${reference}'s (mean${se}, and 99th percentile). Top-1: how often the most likely token is ${reference}'s.`;
}

function describe(a: Artifact): string {
  if (a.stage === "imatrix") return "importance matrix (llama-imatrix), used for the quants";
  if (a.path.endsWith("-quality.svg")) return "chart: size against quality";
  if (a.stage.startsWith("adapter:")) return `LoRA adapter ${a.stage.slice("adapter:".length)} (llama.cpp \`--lora\`)`;
  if (a.stage === "license") return "license or notice";
  if (a.stage === "mmproj") return `vision projector (${a.ggufType ?? ""}, llama.cpp \`--mmproj\`): \`llama-server -hf\` and \`llama-mtmd-cli -hf\` fetch it with any model file; LM Studio wants it beside the model file`;
  if (a.path.endsWith(".tensor-types.txt")) return "a mix's tensor types (llama-quantize `--tensor-type-file`): rebuild it by hand with them";
  if (a.quant?.mix) return `${a.ggufType ?? ""} GGUF: a mix, each tensor group's type chosen by measured sensitivity for ${a.quant.mix.targetBytes} bytes`;
  return a.ggufType ? `${a.ggufType} GGUF` : a.stage;
}

function usage(params: CardSectionsParams, rows: Row[]): string {
  const { repo } = params;
  const out: string[] = [];
  if (params.hubUrl !== DEFAULT_HUB_URL) out.push(`These files are on ${params.hubUrl}: set \`HF_ENDPOINT=${params.hubUrl}\` (llama.cpp also reads \`MODEL_ENDPOINT\`).`, "");
  if (rows.length) {
    const embedding = params.modelKind === "embedding";
    out.push(cells(["Type", "llama.cpp", "Ollama"]), cells(["---", "---", "---"]));
    const vision = params.artifacts.some((a) => a.stage === "mmproj");
    for (const row of rows) {
      const llama = embedding ? `llama-embedding -hf ${repo}:${row.tag} -p "text"` : vision ? `llama-mtmd-cli -hf ${repo}:${row.tag} --image photo.png -p "Describe this image."` : `llama-cli -hf ${repo}:${row.tag}`;
      const ollama = embedding ? `ollama pull hf.co/${repo}:${row.tag}` : `ollama run hf.co/${repo}:${row.tag}`;
      out.push(cells([row.tag, `\`${llama}\``, `\`${ollama}\``]));
    }
    // llama.cpp's own default tag when there is one, else the smallest file.
    const pick = rows.find((r) => r.tag === "Q4_K_M") ?? [...rows].sort((a, b) => a.bytes - b.bytes)[0];
    const server = `llama-server -hf ${repo}:${pick?.tag ?? ""}${embedding ? " --embedding" : ""}`;
    const split = rows.some((r) => r.parts.length > 1) ? " A split file is fetched whole by its tag." : "";
    out.push("", `An OpenAI-compatible server: \`${server}\`.${split}${vision ? " It fetches the vision projector too: send images in the chat messages." : ""}`);
    out.push("", `LM Studio: search for \`${repo}\` in Discover (or \`lms get ${params.hubUrl}/${repo}\`) and pick the type.`);
  }
  for (const a of params.artifacts.filter((x) => x.stage.startsWith("adapter:"))) {
    const base = params.modelRepo ? `-hf ${params.modelRepo}` : "-m BASE.gguf";
    out.push("", `\`${a.path}\`: download it, then \`llama-cli ${base} --lora ${a.path}\`, or \`ADAPTER ./${a.path}\` in an Ollama Modelfile.`);
  }
  return out.join("\n").trim();
}

function provenance(params: CardSectionsParams): string {
  const { report } = params;
  const { tools } = report;
  const packages = Object.entries(tools.packages).map(([name, version]) => `${name} ${version}`);
  const checked = Object.entries(report.validation?.files ?? {}).filter(([path]) => params.artifacts.some((a) => a.path === path || a.path.replace(shardSuffix, "$1") === path));
  const lines = [
    `- Made with gguf-pipeline ${tools.pipeline} and llama.cpp commit \`${tools.llamaCppCommit}\``,
    `- Recipe sha256 \`${report.recipe.sha256}\``,
    `- Python ${tools.python}${packages.length ? `: ${packages.join(", ")}` : ""}`,
  ];
  if (checked.length) {
    const checks = checked.reduce((n, [, v]) => n + v.checks.length, 0);
    const allowed = report.validation?.allowed ?? [];
    lines.push(`- Validated: ${checked.length} file(s), ${checks} checks${allowed.length ? `, accepted failures: ${allowed.join(", ")}` : ", all pass"}`);
  }
  lines.push("- `report.json` records every file's sha256, quality and checks");
  return lines.join("\n");
}

function license(report: RunReport): string {
  const lic = report.license;
  if (!lic) return "No license was declared for these files.";
  const name = lic.name ? ` (${lic.name})` : "";
  const link = lic.link ? ` — ${lic.link.includes("://") ? `<${lic.link}>` : `see \`${lic.link}\``}` : "";
  const files = lic.files.length ? `\n\nShipped with the model: ${lic.files.map((f) => `\`${f}\``).join(", ")}.` : "";
  return `\`${lic.id}\`${name}${link}${files}`;
}

function cells(values: string[]): string {
  return `| ${values.map((v) => v.replace(/\|/g, "\\|")).join(" | ")} |`;
}
