import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { convertGGUFTemplateToOllama } from "@huggingface/ollama-utils";
import type { HubContext } from "../context.js";
import { HubError } from "../hub-error.js";
import type { CommitRecord, Repo } from "../repo-store.js";
import { mediaTypes } from "./media-types.js";
import { pickGguf } from "./pick-gguf.js";
import { pickProjector } from "./pick-projector.js";
import { readGgufChat } from "./read-gguf-chat.js";
import type { GgufChatInfo } from "./read-gguf-chat.js";

interface Layer {
  digest: string;
  mediaType: string;
  size: number;
}

export interface OllamaManifest {
  /** The manifest's bytes, exactly as served (Ollama stores them as they come). */
  body: Buffer;
  /** `sha256:…` of `body`. */
  digest: string;
  /** The GGUF it names. */
  path: string;
}

async function rootFile(hub: HubContext, commit: CommitRecord, names: string[]): Promise<Buffer | undefined> {
  const entry = names.map((name) => commit.files[name]).find((e) => e !== undefined);
  return entry ? readFile(hub.objects.pathOf(entry.sha256)) : undefined;
}

/** The GGUF's chat template in Ollama's Go syntax, as the Hub converts it; undefined when the converter has none. */
function converted(info: GgufChatInfo): { template: string; params: Record<string, unknown> } | undefined {
  if (!info.chatTemplate) return undefined;
  try {
    const mapped = convertGGUFTemplateToOllama({ chat_template: info.chatTemplate, ...(info.bosToken ? { bos_token: info.bosToken } : {}), ...(info.eosToken ? { eos_token: info.eosToken } : {}) });
    return mapped ? { template: mapped.ollama.template, params: mapped.ollama.params ?? {} } : undefined;
  } catch {
    // It throws for templates it knows are no chat models (OuteTTS).
    return undefined;
  }
}

/**
 * The manifest the Hub answers for `ollama pull hf.co/{repo}:{tag}` at `commit`: the GGUF the tag picks (its blob is
 * its LFS sha256) and the mmproj GGUF that goes with it (`pickProjector`), then the repo-root `system`, `template`
 * (else the GGUF's chat template converted by @huggingface/ollama-utils), `params` (else the conversion's stop words)
 * and LICENSE as layers, and a config naming them all. The made-up blobs are held in memory for the blob endpoint.
 */
export async function buildOllamaManifest(params: { hub: HubContext; repo: Repo; commit: CommitRecord; tag: string }): Promise<OllamaManifest> {
  const { hub, commit } = params;
  const name = params.repo.record.name;
  const picked = pickGguf({ paths: Object.keys(commit.files), tag: params.tag });
  const gguf = commit.files[picked.path];
  if (!gguf) throw new HubError({ status: 500, message: `the picked file ${picked.path} is not in the commit` });
  const info = await hub.ollama.header(gguf.sha256, () => readGgufChat(hub.objects.pathOf(gguf.sha256))).catch(() => {
    throw new HubError({ status: 400, message: "Repository is not GGUF or is not compatible with llama.cpp" });
  });
  const [system, template, paramsFile, license] = await Promise.all([rootFile(hub, commit, ["system"]), rootFile(hub, commit, ["template"]), rootFile(hub, commit, ["params"]), rootFile(hub, commit, ["LICENSE", "LICENSE.md", "LICENSE.txt"])]);
  const fallback = template && paramsFile ? undefined : converted(info);
  const fallbackParams = fallback && Object.keys(fallback.params).length > 0 ? Buffer.from(JSON.stringify(fallback.params)) : undefined;
  const layer = (mediaType: string, content: Buffer | undefined): Layer[] => (content ? [{ digest: `sha256:${hub.ollama.put(name, content)}`, mediaType, size: content.length }] : []);
  const projectorPath = pickProjector({ paths: Object.keys(commit.files), model: picked.path });
  const projector = projectorPath ? commit.files[projectorPath] : undefined;
  const layers: Layer[] = [
    { digest: `sha256:${gguf.sha256}`, mediaType: mediaTypes.model, size: gguf.size },
    // The repo's vision projector, as its stored LFS object (served by the blob route like the GGUF).
    ...(projector ? [{ digest: `sha256:${projector.sha256}`, mediaType: mediaTypes.projector, size: projector.size }] : []),
    ...layer(mediaTypes.system, system),
    ...layer(mediaTypes.template, template ?? (fallback ? Buffer.from(fallback.template) : undefined)),
    ...layer(mediaTypes.params, paramsFile ?? fallbackParams),
    ...layer(mediaTypes.license, license),
  ];
  const config = Buffer.from(
    JSON.stringify({
      model_format: "gguf",
      model_family: info.architecture,
      model_families: [info.architecture],
      model_type: "",
      file_type: picked.label ?? info.fileType ?? "",
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const [configLayer] = layer(mediaTypes.config, config);
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.manifest, config: configLayer, layers }));
  return { body, digest: `sha256:${createHash("sha256").update(body).digest("hex")}`, path: picked.path };
}
