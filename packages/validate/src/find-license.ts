import { open, readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, normalize, resolve } from "node:path";
import { fileInside, hubCacheBlobs } from "@gguf-pipeline/core";
import { normalizeLicense } from "./normalize-license.js";
import { readModelCard } from "./read-model-card.js";

export interface FindLicenseParams {
  /** A model or adapter folder: its README.md front matter and license files are read. */
  dir: string;
}

/** One place that says what the license is. */
export interface LicenseClaim {
  /** The file that says it. */
  file: string;
  /** Where in the file: `license`, `license_name`, or `text` for a license file's own words. */
  field: string;
  /** What it says. */
  value: string;
  /** The Hub id it means, when it means one. */
  id?: string;
}

export interface FindLicenseOutput {
  dir: string;
  /** The Hub license id the folder declares; undefined when nothing declares one. */
  id?: string;
  /** A card that lists several licenses: the ids, any of which the recipe may choose. */
  alternatives?: string[];
  /** license_name from the model card (for license: other). */
  name?: string;
  /** license_link from the model card: a URL, or a file in the repository. */
  link?: string;
  claims: LicenseClaim[];
  /** License, notice and use-policy files in the folder (absolute paths), which travel with the model. */
  files: string[];
  /** Two claims that name different licenses, in words; set when the folder contradicts itself. */
  conflict?: string;
  /** A model card whose front matter cannot be read. */
  cardError?: { file: string; message: string };
}

const licenseFileName = /^(licen[cs]e|copying|notice|use[_-]policy)([-_.][\w.-]*)?$/i;
const noticeOnly = /^(notice|use[_-]policy)/i;

// Titles and first sentences of license texts, most specific first (LGPL before GPL, Llama 3.1 before Llama 3).
const licenseTexts: [RegExp, string][] = [
  [/llama 2 community license/, "llama2"],
  [/llama 3\.1 community license/, "llama3.1"],
  [/llama 3\.2 community license/, "llama3.2"],
  [/llama 3\.3 community license/, "llama3.3"],
  [/llama 4 community license/, "llama4"],
  [/llama 3 community license/, "llama3"],
  [/gemma terms of use/, "gemma"],
  [/apache license,? version 2\.0/, "apache-2.0"],
  [/boost software license/, "bsl-1.0"],
  [/mit license|permission is hereby granted, free of charge/, "mit"],
  [/attribution-noncommercial-sharealike 4\.0/, "cc-by-nc-sa-4.0"],
  [/attribution-noncommercial-noderivatives 4\.0/, "cc-by-nc-nd-4.0"],
  [/attribution-noncommercial 4\.0/, "cc-by-nc-4.0"],
  [/attribution-sharealike 4\.0/, "cc-by-sa-4.0"],
  [/attribution-noderivatives 4\.0/, "cc-by-nd-4.0"],
  [/attribution 4\.0 international/, "cc-by-4.0"],
  [/cc0 1\.0 universal/, "cc0-1.0"],
  [/gnu lesser general public license,? version 3/, "lgpl-3.0"],
  [/gnu lesser general public license,? version 2\.1/, "lgpl-2.1"],
  [/gnu affero general public license,? version 3/, "agpl-3.0"],
  [/gnu general public license,? version 3/, "gpl-3.0"],
  [/gnu general public license,? version 2/, "gpl-2.0"],
  [/mozilla public license,? (version )?2\.0/, "mpl-2.0"],
  [/free and unencumbered software released into the public domain/, "unlicense"],
  [/redistribution and use in source and binary forms[\s\S]*neither the name/, "bsd-3-clause"],
  [/redistribution and use in source and binary forms/, "bsd-2-clause"],
];

/**
 * What a model or adapter folder says about its license: the model card's `license`, `license_name` and
 * `license_link`, and the license files beside it (identified by their text). A folder whose card and license file
 * name different licenses is reported as a conflict; a license file nobody can identify counts as `other`.
 */
export async function findLicense(params: FindLicenseParams): Promise<FindLicenseOutput> {
  const dir = resolve(params.dir);
  const claims: LicenseClaim[] = [];
  const cardFile = join(dir, "README.md");
  const card = await readModelCard({ file: cardFile });
  const fm = card.frontMatter;
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v).trim() || undefined : undefined);
  const name = text(fm.license_name);
  const link = text(fm.license_link);
  // "unknown" says no more than a missing license; a list gives alternatives, which the recipe chooses between.
  const values = (Array.isArray(fm.license) ? fm.license : [fm.license]).map(text).filter((v): v is string => Boolean(v) && v?.toLowerCase() !== "unknown");
  for (const value of values) {
    let id = normalizeLicense({ value });
    // Older cards say `license: other` with a name the Hub has since given an id (license_name: llama3).
    if (id === "other" && name) id = normalizeLicense({ value: name }) ?? "other";
    claims.push({ file: cardFile, field: "license", value, ...(id ? { id } : {}) });
  }

  // Hub cache snapshots are folders of symlinks: a link to a file is a file — when it leads to a file of this folder or
  // of the snapshot's own blobs/. A link anywhere else (~/.ssh/id_rsa as NOTICE) would be copied out and published.
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  const blobs = hubCacheBlobs(dir);
  const hint = "the pipeline ships only files inside the model folder (a Hub cache snapshot's links into its blobs/ are fine): copy the file in, or remove the link";
  for (const e of entries) {
    if (!licenseFileName.test(e.name)) continue;
    const isFile = e.isFile() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).then((st) => st.isFile(), () => false)));
    if (!isFile) continue;
    if (e.isSymbolicLink()) await fileInside({ dir, path: e.name, ...(blobs ? { alsoWithin: blobs } : {}), hint });
    names.push(e.name);
  }
  // A license_link naming a file in the folder (LICENSE, ./MODEL_LICENSE) makes that file a license file too.
  const linked = link && !/^[a-z]+:\/\//i.test(link) ? normalize(link).replace(/^\.\//, "") : undefined;
  if (linked && !linked.includes("/") && !isAbsolute(linked) && !names.includes(linked)) {
    if (await stat(join(dir, linked)).then((st) => st.isFile(), () => false)) {
      await fileInside({ dir, path: linked, ...(blobs ? { alsoWithin: blobs } : {}), hint });
      names.push(linked);
    }
  }
  names.sort();
  const files = names.map((n) => join(dir, n));
  for (const fileName of names) {
    if (noticeOnly.test(basename(fileName))) continue;
    const file = join(dir, fileName);
    const id = identifyLicenseText(await readHead(file).catch(() => ""));
    claims.push({ file, field: "text", value: id ? `the ${id} text` : "a license text", id: id ?? "other" });
  }

  const cardClaims = claims.filter((c) => c.field === "license");
  const fileClaims = claims.filter((c) => c.field === "text");
  const alternatives = [...new Set(cardClaims.map((c) => c.id).filter((id): id is string => Boolean(id)))];
  let cardId = cardClaims[0]?.id;
  const knownFile = fileClaims.find((c) => c.id !== "other");
  // `other` is whatever its files say: a card that says other over the Llama 3.1 text is llama3.1.
  if (cardId === "other" && alternatives.length === 1 && knownFile?.id) cardId = knownFile.id;
  const contradicting = cardId && cardId !== "other" && alternatives.length === 1 ? fileClaims.find((c) => c.id !== "other" && c.id !== cardId) : undefined;
  const conflict = contradicting ? `${cardFile} says ${cardId} but ${contradicting.file} is ${contradicting.value}` : undefined;
  const id = cardClaims.length > 0 ? cardId : knownFile?.id ?? fileClaims[0]?.id;
  return {
    dir,
    ...(id ? { id } : {}),
    ...(alternatives.length > 1 ? { alternatives } : {}),
    ...(name ? { name } : {}),
    ...(link ? { link } : {}),
    claims,
    files,
    ...(conflict ? { conflict } : {}),
    ...(card.error ? { cardError: { file: cardFile, message: card.error } } : {}),
  };
}

/** The license a text is, by the pattern that matches earliest (a license's title comes first; others it mentions later). */
function identifyLicenseText(head: string): string | undefined {
  let best: { at: number; id: string } | undefined;
  for (const [pattern, id] of licenseTexts) {
    const at = head.search(pattern);
    if (at >= 0 && (!best || at < best.at)) best = { at, id };
  }
  return best?.id;
}

/** The first 4 KB of a file, lower-cased with its whitespace folded, enough for a license's title. */
async function readHead(file: string): Promise<string> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8").toLowerCase().replace(/[#*_>`]/g, " ").replace(/\s+/g, " ").trim();
  } finally {
    await handle.close();
  }
}
