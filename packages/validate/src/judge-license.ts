import { basename, join, normalize, relative } from "node:path";
import { LicenseError } from "./errors.js";
import type { FindLicenseOutput } from "./find-license.js";
import { hubLicenses, licenseRestrictions, type LicenseTerms } from "./license-table.js";
import { normalizeLicense } from "./normalize-license.js";

export interface JudgeLicenseParams {
  /** The recipe, named in messages about what it declares. */
  recipeFile: string;
  /** What the recipe declares (metadata.license, licenseName, licenseLink). */
  declared?: { license?: string; name?: string; link?: string };
  /** What the source folder says (findLicense). */
  source: FindLicenseOutput;
  adapters?: { name: string; found: FindLicenseOutput }[];
  /** Datasets the recipe names, with the license it gives each. */
  datasets?: { name: string; license?: string }[];
  /** The recipe's explicit acknowledgement that the result may not be used commercially. */
  acceptNonCommercial?: boolean;
  /** More license or notice files the recipe ships (absolute paths). */
  extraFiles?: string[];
  /** Paths in `from` and in warnings are written relative to this folder (the recipe's), so reports name no local folders. */
  relativeTo?: string;
}

export interface LicenseVerdict {
  /** The Hub license id the outputs carry (general.license). */
  license: string;
  terms: LicenseTerms;
  /** general.license.name */
  name?: string;
  /** general.license.link: a URL, or the name of a license file shipped beside the model. */
  link?: string;
  /** Where the license comes from, in words. */
  from: string;
  /** Files to copy into the output folder (the publish set): `from` an absolute path, `to` a file name. */
  ship: { from: string; to: string }[];
  /** Notices to write into the output folder, when the terms require one and the source ships none. */
  write: { to: string; text: string }[];
  /** What a user should know but that does not stop the run. */
  warnings: string[];
}

/**
 * The license policy. Resolves the license the outputs carry from the recipe and the source, and refuses, with one
 * LicenseError naming the file, when: nothing declares a license; the recipe contradicts the source (declaring a
 * stricter license over a permissive source is allowed); an adapter or dataset is stricter than the result and the
 * recipe does not declare its license; the result is non-commercial and the recipe does not acknowledge it; or terms
 * that must travel with the model (Llama, custom licenses) have no file to travel in.
 */
export function judgeLicense(params: JudgeLicenseParams): LicenseVerdict {
  const { recipeFile, source } = params;
  const warnings: string[] = [];
  const show = (path: string) => (params.relativeTo ? relative(params.relativeTo, path) || "." : path);
  const recipeDeclares = params.declared?.license;
  const declared = recipeDeclares === undefined ? undefined : normalizeLicense({ value: recipeDeclares });
  if (recipeDeclares !== undefined && !declared) {
    throw new LicenseError({ file: recipeFile, message: `metadata.license "${recipeDeclares}" is not a Hub license identifier`, hint: "use a Hub id (apache-2.0, mit, llama3.1, other with licenseName and licenseLink, ...)" });
  }
  for (const found of [source, ...(params.adapters ?? []).map((a) => a.found)]) {
    if (found.cardError) throw new LicenseError({ file: found.cardError.file, message: found.cardError.message, hint: "fix the front matter so the license can be read" });
    const unknown = found.claims.find((c) => !c.id);
    if (unknown) throw new LicenseError({ file: unknown.file, message: `license "${unknown.value}" is not a Hub license identifier`, hint: "use a Hub id (apache-2.0, mit, llama3.1, other with license_name and license_link, ...)" });
    if (found.conflict) throw new LicenseError({ file: found.dir, message: `the license is contradictory: ${found.conflict}`, hint: "make the model card and the license file agree" });
  }
  const terms = (id: string): LicenseTerms => hubLicenses[id] ?? { name: id, notice: {} };

  // The parts: each adapter's and each dataset's license, which the result may have to carry.
  const parts: { what: string; id: string; file: string }[] = [];
  for (const adapter of params.adapters ?? []) {
    if (adapter.found.id) parts.push({ what: `adapter "${adapter.name}"`, id: adapter.found.id, file: adapter.found.claims.find((c) => c.id === adapter.found.id)?.file ?? adapter.found.dir });
    else warnings.push(`${show(adapter.found.dir)}: adapter "${adapter.name}" declares no license; it is taken to be under the model's`);
  }
  for (const dataset of params.datasets ?? []) {
    if (!dataset.license) continue;
    const id = normalizeLicense({ value: dataset.license });
    if (!id) throw new LicenseError({ file: recipeFile, message: `dataset "${dataset.name}": license "${dataset.license}" is not a Hub license identifier`, hint: "use a Hub id (cc-by-4.0, cc-by-nc-4.0, odc-by, ...)" });
    parts.push({ what: `dataset "${dataset.name}"`, id, file: recipeFile });
  }

  // A card that lists several licenses offers a choice: the recipe makes it.
  let sourceId = source.id;
  if (source.alternatives) {
    if (!declared || !source.alternatives.includes(declared)) {
      throw new LicenseError({ file: join(source.dir, "README.md"), message: `the model card lists several licenses (${source.alternatives.join(", ")})`, hint: `choose one as metadata.license in ${recipeFile}` });
    }
    sourceId = declared;
  }
  const sourceClaim = source.claims.find((c) => c.id === sourceId);
  if (!declared && !sourceId) {
    throw new LicenseError({
      file: source.dir,
      message: "no license found: README.md front matter has no `license` and there is no LICENSE file",
      hint: `declare the license in ${recipeFile} as metadata.license (a Hub id such as apache-2.0)`,
    });
  }
  if (declared && sourceId && declared !== sourceId) {
    const sourceTerms = terms(sourceId);
    // Stricter terms may be declared over a permissive source, and a stricter part's license over any source (its
    // terms still ship with it); a license that drops the source's terms may not.
    const permissive = licenseRestrictions(sourceTerms).length === 0 && !sourceTerms.notice;
    const stricter = licenseRestrictions(terms(declared)).length > 0;
    const aPart = parts.some((p) => p.id === declared);
    if (!((permissive && stricter) || aPart)) {
      throw new LicenseError({
        file: recipeFile,
        message: `metadata.license is ${declared} but ${sourceClaim?.file ?? source.dir} says ${sourceId}`,
        hint: `a converted model keeps its source's license: remove metadata.license or set it to ${sourceId}`,
      });
    }
  }
  const license = declared ?? sourceId ?? "other";
  const licenseTerms = terms(license);
  const from = declared ? show(recipeFile) : sourceClaim ? `${show(sourceClaim.file)}${sourceClaim.field === "text" ? "" : ` (${sourceClaim.field})`}` : show(source.dir);
  const restrictions = new Set(licenseRestrictions(licenseTerms));
  for (const part of parts) {
    const extra = licenseRestrictions(terms(part.id)).filter((r) => !restrictions.has(r));
    if (extra.length > 0 && declared !== part.id) {
      throw new LicenseError({
        file: part.file,
        message: `${part.what} is ${part.id} (${extra.join(", ")}), stricter than the model's ${license}`,
        hint: `the result carries its terms: declare metadata.license "${part.id}" in ${recipeFile}${terms(part.id).nonCommercial ? " and set licensePolicy.acceptNonCommercial" : ""}`,
      });
    }
  }
  const nonCommercial = [license, ...parts.map((p) => p.id)].find((id) => terms(id).nonCommercial);
  if (nonCommercial && !params.acceptNonCommercial) {
    throw new LicenseError({
      file: recipeFile,
      message: nonCommercial === license ? `the result's license ${license} (from ${from}) forbids commercial use` : `a part's license ${nonCommercial} forbids commercial use`,
      hint: `acknowledge it with "licensePolicy": { "acceptNonCommercial": true } in ${recipeFile}`,
    });
  }
  if (licenseTerms.noDerivatives) warnings.push(`${license} forbids sharing derivatives, and a GGUF conversion is one: publish only with the licensor's permission`);
  const customName = [params.declared?.name, source.name].find((n) => n && /non-?commercial|research|\bnc\b/i.test(n));
  if (license === "other" && customName && !params.acceptNonCommercial) warnings.push(`license "${customName}" may forbid commercial use: read its terms`);

  // Every license and notice file travels; an adapter's under its own name, so it cannot shadow the model's.
  const ship: LicenseVerdict["ship"] = [];
  const add = (file: string, to: string) => {
    const taken = ship.find((s) => s.to === to);
    if (taken && taken.from !== file) throw new LicenseError({ file, message: `two license files would both be shipped as ${to} (the other is ${taken.from})`, hint: "rename one of them" });
    if (!taken) ship.push({ from: file, to });
  };
  for (const file of source.files) add(file, basename(file));
  for (const file of params.extraFiles ?? []) add(file, basename(file));
  const modelFiles = [...ship];
  for (const adapter of params.adapters ?? []) for (const file of adapter.found.files) add(file, `${adapter.name}.${basename(file)}`);

  // Terms that must travel (the source's, and the declared license's when it differs) need their own text: the
  // source's license files or the recipe's, not a notice or use policy alone, and not an adapter's.
  const write: LicenseVerdict["write"] = [];
  const isNotice = (name: string) => /^(notice|use[_-]policy)/i.test(basename(name));
  for (const id of new Set([license, ...(sourceId ? [sourceId] : [])])) {
    const notice = terms(id).notice;
    if (!notice) continue;
    if (notice.notice) {
      if (!modelFiles.some((f) => /^notice/i.test(basename(f.to))) && !write.some((w) => w.to === "NOTICE")) write.push({ to: "NOTICE", text: `${notice.notice}\n` });
    } else if (!modelFiles.some((f) => !isNotice(f.to))) {
      throw new LicenseError({
        file: source.dir,
        message: `${id} requires its license text to travel with the model, and there is no LICENSE file${modelFiles.length ? ` (only ${modelFiles.map((f) => f.to).join(", ")})` : ""}`,
        hint: `put the license file in the source folder or list it in licensePolicy.files in ${recipeFile}`,
      });
    }
  }

  const fromSource = license === sourceId;
  const name = params.declared?.name ?? (fromSource ? source.name : undefined);
  let link = params.declared?.link ?? (fromSource ? source.link : undefined);
  if (licenseTerms.notice) {
    link ??= licenseTerms.notice.link ?? modelFiles.find((s) => !isNotice(s.to))?.to ?? write[0]?.to;
    const local = link && !/^[a-z]+:\/\//i.test(link) ? normalize(link).replace(/^\.\//, "") : undefined;
    if (local !== undefined && !ship.some((s) => s.to === local) && !write.some((w) => w.to === local)) {
      warnings.push(`license link "${link}" is neither a URL nor a license file that ships with the model`);
    }
    if (license === "other" && !name) warnings.push(`license other has no name (license_name in the card, or metadata.licenseName)`);
  }
  return {
    license,
    terms: licenseTerms,
    ...(name ? { name } : {}),
    ...(link ? { link } : {}),
    from,
    ship,
    write,
    warnings,
  };
}
