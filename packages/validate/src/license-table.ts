/** What a license asks of whoever ships a derivative, as far as the license policy needs to know. */
export interface LicenseTerms {
  /** Full name, as the Hub lists it. */
  name: string;
  /** No commercial use (cc-by-nc-*, research-only licenses). */
  nonCommercial?: true;
  /** No derivatives may be shared (cc-by-nd-*): a GGUF conversion is one. */
  noDerivatives?: true;
  /** Derivatives must carry the same license (cc-by-sa-*, GPL family). */
  shareAlike?: true;
  /** An acceptable-use policy or field-of-use restrictions bind every user (Llama, Gemma, OpenRAIL). */
  useRestrictions?: true;
  /**
   * Redistribution must ship the license text or a notice file: the pipeline copies them into the output folder and
   * sets general.license.link. `link` is the terms' canonical address; `notice` is the exact text the terms require
   * in a "Notice" file, written when the source ships none.
   */
  notice?: { link?: string; notice?: string };
}

const llama = (version: string, link: string): LicenseTerms => ({
  name: `Llama ${version} Community License Agreement`,
  useRestrictions: true,
  notice: { link },
});
const ccNc = (name: string): LicenseTerms => ({ name, nonCommercial: true });

/**
 * The Hub's license identifiers (https://huggingface.co/docs/hub/repositories-licenses), each with the terms that
 * matter when shipping a converted model. "unknown" is not here: it says no more than a missing license.
 */
export const hubLicenses: Readonly<Record<string, LicenseTerms>> = {
  // RAIL licenses pass their use restrictions on: every recipient gets a copy of the license, so its text travels.
  "apache-2.0": { name: "Apache license 2.0" },
  mit: { name: "MIT" },
  openrail: { name: "OpenRAIL license family", useRestrictions: true, notice: {} },
  "bigscience-openrail-m": { name: "BigScience OpenRAIL-M", useRestrictions: true, notice: {} },
  "creativeml-openrail-m": { name: "CreativeML OpenRAIL-M", useRestrictions: true, notice: {} },
  "bigscience-bloom-rail-1.0": { name: "BigScience BLOOM RAIL 1.0", useRestrictions: true, notice: {} },
  "bigcode-openrail-m": { name: "BigCode Open RAIL-M v1", useRestrictions: true, notice: {} },
  "openrail++": { name: "Open Rail++-M License", useRestrictions: true, notice: {} },
  "afl-3.0": { name: "Academic Free License v3.0" },
  "artistic-2.0": { name: "Artistic license 2.0" },
  "bsl-1.0": { name: "Boost Software License 1.0" },
  bsd: { name: "BSD license family" },
  "bsd-2-clause": { name: "BSD 2-clause \"Simplified\" license" },
  "bsd-3-clause": { name: "BSD 3-clause \"New\" or \"Revised\" license" },
  "bsd-3-clause-clear": { name: "BSD 3-clause Clear license" },
  "c-uda": { name: "Computational Use of Data Agreement", useRestrictions: true },
  cc: { name: "Creative Commons license family" },
  "cc0-1.0": { name: "Creative Commons Zero v1.0 Universal" },
  "cc-by-2.0": { name: "Creative Commons Attribution 2.0" },
  "cc-by-2.5": { name: "Creative Commons Attribution 2.5" },
  "cc-by-3.0": { name: "Creative Commons Attribution 3.0" },
  "cc-by-4.0": { name: "Creative Commons Attribution 4.0" },
  "cc-by-sa-3.0": { name: "Creative Commons Attribution Share Alike 3.0", shareAlike: true },
  "cc-by-sa-4.0": { name: "Creative Commons Attribution Share Alike 4.0", shareAlike: true },
  "cc-by-nc-2.0": ccNc("Creative Commons Attribution Non Commercial 2.0"),
  "cc-by-nc-3.0": ccNc("Creative Commons Attribution Non Commercial 3.0"),
  "cc-by-nc-4.0": ccNc("Creative Commons Attribution Non Commercial 4.0"),
  "cc-by-nd-4.0": { name: "Creative Commons Attribution No Derivatives 4.0", noDerivatives: true },
  "cc-by-nc-nd-3.0": { name: "Creative Commons Attribution Non Commercial No Derivatives 3.0", nonCommercial: true, noDerivatives: true },
  "cc-by-nc-nd-4.0": { name: "Creative Commons Attribution Non Commercial No Derivatives 4.0", nonCommercial: true, noDerivatives: true },
  "cc-by-nc-sa-2.0": { name: "Creative Commons Attribution Non Commercial Share Alike 2.0", nonCommercial: true, shareAlike: true },
  "cc-by-nc-sa-3.0": { name: "Creative Commons Attribution Non Commercial Share Alike 3.0", nonCommercial: true, shareAlike: true },
  "cc-by-nc-sa-4.0": { name: "Creative Commons Attribution Non Commercial Share Alike 4.0", nonCommercial: true, shareAlike: true },
  "cdla-sharing-1.0": { name: "Community Data License Agreement – Sharing, Version 1.0", shareAlike: true },
  "cdla-permissive-1.0": { name: "Community Data License Agreement – Permissive, Version 1.0" },
  "cdla-permissive-2.0": { name: "Community Data License Agreement – Permissive, Version 2.0" },
  wtfpl: { name: "Do What The F*ck You Want To Public License" },
  "ecl-2.0": { name: "Educational Community License v2.0" },
  "epl-1.0": { name: "Eclipse Public License 1.0", shareAlike: true },
  "epl-2.0": { name: "Eclipse Public License 2.0", shareAlike: true },
  "etalab-2.0": { name: "Etalab Open License 2.0" },
  "eupl-1.1": { name: "European Union Public License 1.1", shareAlike: true },
  "eupl-1.2": { name: "European Union Public License 1.2", shareAlike: true },
  "agpl-3.0": { name: "GNU Affero General Public License v3.0", shareAlike: true },
  gfdl: { name: "GNU Free Documentation License family", shareAlike: true },
  gpl: { name: "GNU General Public License family", shareAlike: true },
  "gpl-2.0": { name: "GNU General Public License v2.0", shareAlike: true },
  "gpl-3.0": { name: "GNU General Public License v3.0", shareAlike: true },
  lgpl: { name: "GNU Lesser General Public License family", shareAlike: true },
  "lgpl-2.1": { name: "GNU Lesser General Public License v2.1", shareAlike: true },
  "lgpl-3.0": { name: "GNU Lesser General Public License v3.0", shareAlike: true },
  isc: { name: "ISC" },
  "h-research": { name: "H Research License", nonCommercial: true },
  "intel-research": { name: "Intel Research Use License Agreement", nonCommercial: true },
  "lppl-1.3c": { name: "LaTeX Project Public License v1.3c" },
  "ms-pl": { name: "Microsoft Public License" },
  "apple-ascl": { name: "Apple Sample Code license" },
  "apple-amlr": { name: "Apple Model License for Research", nonCommercial: true },
  "mpl-2.0": { name: "Mozilla Public License 2.0", shareAlike: true },
  "odc-by": { name: "Open Data Commons License Attribution family" },
  odbl: { name: "Open Database License family", shareAlike: true },
  "openmdw-1.0": { name: "OpenMDW License Agreement v1.0" },
  "osl-3.0": { name: "Open Software License 3.0", shareAlike: true },
  postgresql: { name: "PostgreSQL License" },
  "ofl-1.1": { name: "SIL Open Font License 1.1" },
  ncsa: { name: "University of Illinois/NCSA Open Source License" },
  unlicense: { name: "The Unlicense" },
  zlib: { name: "zLib License" },
  pddl: { name: "Open Data Commons Public Domain Dedication and License" },
  "lgpl-lr": { name: "Lesser General Public License For Linguistic Resources", shareAlike: true },
  "deepfloyd-if-license": { name: "DeepFloyd IF Research License Agreement", nonCommercial: true, useRestrictions: true, notice: {} },
  "fair-noncommercial-research-license": { name: "FAIR Noncommercial Research License", nonCommercial: true, useRestrictions: true, notice: {} },
  llama2: llama("2", "https://ai.meta.com/llama/license/"),
  llama3: { ...llama("3", "https://llama.meta.com/llama3/license/"), name: "Meta Llama 3 Community License Agreement" },
  "llama3.1": llama("3.1", "https://llama.meta.com/llama3_1/license/"),
  "llama3.2": llama("3.2", "https://www.llama.com/llama3_2/license/"),
  "llama3.3": llama("3.3", "https://www.llama.com/llama3_3/license/"),
  llama4: llama("4", "https://www.llama.com/llama4/license/"),
  gemma: {
    name: "Gemma Terms of Use",
    useRestrictions: true,
    notice: { link: "https://ai.google.dev/gemma/terms", notice: "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms" },
  },
  // A custom license: its text (or a link to it) is all anyone has, so it always travels with the model.
  other: { name: "Other", notice: {} },
};

/** The restrictions a license carries, by name, for messages and comparisons. */
export function licenseRestrictions(terms: LicenseTerms): string[] {
  return [
    ...(terms.nonCommercial ? ["non-commercial"] : []),
    ...(terms.noDerivatives ? ["no derivatives"] : []),
    ...(terms.shareAlike ? ["share-alike"] : []),
    ...(terms.useRestrictions ? ["use restrictions"] : []),
  ];
}
