import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseDocument, stringify } from "yaml";

export interface ShadowSourceParams {
  /** The source model folder. */
  dir: string;
  /** What the converter must write as general.license, general.license.name and general.license.link. */
  license?: { id: string; name?: string; link?: string };
  /** Keys config.json must have that the source's lacks (a Qwen2-VL saved by transformers 4.57: its architectures). */
  config?: Record<string, unknown>;
  /**
   * Where to make the folder: the output folder's state folder, where a run killed outright leaves it under a name
   * with its pid (`source-….<pid>.tmp`) that the folder's next holder removes (removeOrphanPartials).
   */
  under: string;
}

export interface ShadowSourceOutput {
  /** A folder with the source's name whose entries link to the source's; its README.md says the license, its config.json has the keys. */
  dir: string;
  remove(): Promise<void>;
}

const frontMatter = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * convert_hf_to_gguf.py takes general.license only from the model card's front matter (its --metadata override cannot
 * set it), and the card's license_name/license_link even when the license policy decided otherwise. Stamping the
 * header afterwards would copy the whole model once more, so the converter reads the source through a folder of links
 * instead, where README.md is the card with exactly the license policy's verdict. The folder keeps the source's name:
 * the converter derives names and size labels from it.
 */
export async function shadowSource(params: ShadowSourceParams): Promise<ShadowSourceOutput> {
  await mkdir(params.under, { recursive: true });
  const root = join(params.under, `source-${randomUUID().slice(0, 8)}.${process.pid}.tmp`);
  const dir = join(root, basename(params.dir));
  try {
    await mkdir(dir, { recursive: true });
    for (const entry of await readdir(params.dir)) {
      if ((entry === "README.md" && params.license) || (entry === "config.json" && params.config)) continue;
      // Links to the real files (a Hub cache snapshot is itself links into its blob store).
      await symlink(await realpath(join(params.dir, entry)), join(dir, entry));
    }
    if (params.license) {
      const card = await readFile(join(params.dir, "README.md"), "utf8").catch(() => "");
      await writeFile(join(dir, "README.md"), withLicense(card, params.license));
    }
    if (params.config) {
      const config = JSON.parse(await readFile(join(params.dir, "config.json"), "utf8")) as Record<string, unknown>;
      await writeFile(join(dir, "config.json"), `${JSON.stringify({ ...params.config, ...config, ...params.config }, null, 2)}\n`);
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

/** The card with its front matter's license, license_name and license_link set to the verdict (absent ones removed). */
export function withLicense(card: string, license: NonNullable<ShadowSourceParams["license"]>): string {
  const match = frontMatter.exec(card);
  const doc = parseDocument(match?.[1] ?? "");
  const data = doc.toJS() as unknown;
  const fields: Record<string, unknown> = data && typeof data === "object" && !Array.isArray(data) ? { ...(data as Record<string, unknown>) } : {};
  fields.license = license.id;
  for (const [key, value] of [["license_name", license.name], ["license_link", license.link]] as const) {
    if (value === undefined) delete fields[key];
    else fields[key] = value;
  }
  const body = match ? card.slice(match[0].length) : card;
  return `---\n${stringify(fields).trimEnd()}\n---\n${body}`;
}
