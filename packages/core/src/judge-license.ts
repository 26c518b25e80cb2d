import { basename } from "node:path";
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
  const recipeDeclares = params.declared?.license;
  for (const found of [source, ...(params.adapters ?? []).map((a) => a.found)]) {
    if (found.cardError) throw new LicenseError({ file: found.cardError.file, message: found.cardError.message, hint: "fix the front matter so the license can be read" });
    const unknown = found.claims.find((c) => !c.id);
    if (unknown) throw new LicenseError({ file: unknown.file, message: `license "${unknown.value}" is not a Hub license identifier`, hint: "use a Hub id (apache-2.0, mit, llama3.1, other with license_name and license_link, ...)" });
    if (found.conflict) throw new LicenseError({ file: found.dir, message: `the license is contradictory: ${found.conflict}`, hint: "make the model card and the license file agree" });
  }
  const declared = recipeDeclares === undefined ? undefined : normalizeLicense({ value: recipeDeclares });
  if (recipeDeclares !== undefined && !declared) {
    throw new LicenseError({ file: recipeFile, message: `metadata.license "${recipeDeclares}" is not a Hub license identifier`, hint: "use a Hub id (apache-2.0, mit, llama3.1, other with licenseName and licenseLink, ...)" });
  }
  const sourceClaim = source.claims.find((c) => c.id === source.id);
  if (!declared && !source.id) {
    throw new LicenseError({
      file: source.dir,
      message: "no license found: README.md front matter has no `license` and there is no LICENSE file",
      hint: `declare the license in ${recipeFile} as metadata.license (a Hub id such as apache-2.0)`,
    });
  }
  const terms = (id: string): LicenseTerms => hubLicenses[id] ?? { name: id, notice: {} };
  if (declared && source.id && declared !== source.id) {
    const sourceTerms = terms(source.id);
    // A permissive source may be shipped under stricter terms (an adapter's, a dataset's); nothing else may change it.
    const permissive = licenseRestrictions(sourceTerms).length === 0 && !sourceTerms.notice;
    const stricter = licenseRestrictions(terms(declared)).length > 0;
    if (!(permissive && stricter)) {
      throw new LicenseError({
        file: recipeFile,
        message: `metadata.license is ${declared} but ${sourceClaim?.file ?? source.dir} says ${source.id}`,
        hint: `a converted model keeps its source's license: remove metadata.license or set it to ${source.id}`,
      });
    }
  }
  const license = declared ?? source.id ?? "other";
  const licenseTerms = terms(license);
  const from = declared ? recipeFile : sourceClaim ? `${sourceClaim.file}${sourceClaim.field === "text" ? "" : ` (${sourceClaim.field})`}` : source.dir;
  const restrictions = new Set(licenseRestrictions(licenseTerms));
  const stricterThan = (id: string) => licenseRestrictions(terms(id)).filter((r) => !restrictions.has(r));

  for (const adapter of params.adapters ?? []) {
    const id = adapter.found.id;
    if (!id) {
      warnings.push(`${adapter.found.dir}: adapter "${adapter.name}" declares no license; it is taken to be under ${license}`);
      continue;
    }
    const extra = stricterThan(id);
    if (extra.length > 0 && declared !== id) {
      const claim = adapter.found.claims.find((c) => c.id === id);
      throw new LicenseError({
        file: claim?.file ?? adapter.found.dir,
        message: `adapter "${adapter.name}" is ${id} (${extra.join(", ")}), stricter than the model's ${license}`,
        hint: `the result carries the adapter's terms: declare metadata.license "${id}" in ${recipeFile}${terms(id).nonCommercial ? ' and set licensePolicy.acceptNonCommercial' : ""}, or leave the adapter out`,
      });
    }
  }
  for (const dataset of params.datasets ?? []) {
    if (!dataset.license) continue;
    const id = normalizeLicense({ value: dataset.license });
    if (!id) throw new LicenseError({ file: recipeFile, message: `dataset "${dataset.name}": license "${dataset.license}" is not a Hub license identifier`, hint: "use a Hub id (cc-by-4.0, cc-by-nc-4.0, odc-by, ...)" });
    const extra = stricterThan(id);
    if (extra.length > 0 && declared !== id) {
      throw new LicenseError({
        file: recipeFile,
        message: `dataset "${dataset.name}" is ${id} (${extra.join(", ")}), stricter than the model's ${license}`,
        hint: `a model trained on it carries its terms: declare metadata.license "${id}"${terms(id).nonCommercial ? " and set licensePolicy.acceptNonCommercial" : ""}`,
      });
    }
  }
  if (licenseTerms.nonCommercial && !params.acceptNonCommercial) {
    throw new LicenseError({
      file: recipeFile,
      message: `the result's license ${license} (from ${from}) forbids commercial use`,
      hint: `acknowledge it with "licensePolicy": { "acceptNonCommercial": true } in ${recipeFile}`,
    });
  }
  if (licenseTerms.noDerivatives) warnings.push(`${license} forbids sharing derivatives, and a GGUF conversion is one: publish only with the licensor's permission`);

  // Every license and notice file travels; an adapter's under its own name, so it cannot shadow the model's.
  const ship: LicenseVerdict["ship"] = [];
  const add = (file: string, to: string) => {
    const taken = ship.find((s) => s.to === to);
    if (taken && taken.from !== file) throw new LicenseError({ file, message: `two license files would both be shipped as ${to} (the other is ${taken.from})`, hint: "rename one of them" });
    if (!taken) ship.push({ from: file, to });
  };
  for (const file of source.files) add(file, basename(file));
  for (const adapter of params.adapters ?? []) for (const file of adapter.found.files) add(file, `${adapter.name}.${basename(file)}`);
  for (const file of params.extraFiles ?? []) add(file, basename(file));

  const write: LicenseVerdict["write"] = [];
  const fromSource = license === source.id;
  const name = params.declared?.name ?? (fromSource ? source.name : undefined);
  let link = params.declared?.link ?? (fromSource ? source.link : undefined);
  if (licenseTerms.notice) {
    if (ship.length === 0 && licenseTerms.notice.notice) write.push({ to: "NOTICE", text: `${licenseTerms.notice.notice}\n` });
    else if (ship.length === 0) {
      throw new LicenseError({
        file: source.dir,
        message: `${license} requires its license text to travel with the model, and there is no LICENSE, NOTICE or USE_POLICY file`,
        hint: `put the license file in the source folder or list it in licensePolicy.files in ${recipeFile}`,
      });
    }
    link ??= licenseTerms.notice.link ?? ship.find((s) => !/^(notice|use[_-]policy)/i.test(s.to))?.to ?? ship[0]?.to;
    if (link && !/^https?:\/\//.test(link) && !ship.some((s) => s.to === link)) {
      warnings.push(`license_link "${link}" is neither a URL nor a license file that ships with the model`);
    }
    if (license === "other" && !name) warnings.push(`license other has no license_name (${source.dir})`);
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
