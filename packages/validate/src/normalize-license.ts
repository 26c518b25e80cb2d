import { hubLicenses } from "./license-table.js";

export interface NormalizeLicenseParams {
  /** A license as people write it: a Hub id, an SPDX id, or a name ("Apache 2.0", "Llama 3.1 Community License"). */
  value: string;
}

/**
 * The Hub license identifier for a license as written in a model card, a recipe or a LICENSE file's title, or
 * undefined when it names none ("unknown" included: it says no more than a missing license).
 */
export function normalizeLicense(params: NormalizeLicenseParams): string | undefined {
  const raw = params.value.trim().toLowerCase();
  if (raw === "unknown" || raw === "") return undefined;
  if (Object.hasOwn(hubLicenses, raw)) return raw;
  let text = raw
    .replace(/\b(the|meta|community|licen[cs]e|agreement|version)\b/g, " ")
    .replace(/\bv(\d)/g, "$1")
    .replace(/[\s_,]+/g, " ")
    .trim()
    .replace(/ /g, "-")
    .replace(/(-only|-or-later|\+)$/, "")
    // "GPLv3", "apache2.0": a version glued to the name.
    .replace(/^([a-z]+?)v?(\d+(\.\d+)?)$/, "$1-$2")
    .replace(/^-+|-+$/g, "");
  if (Object.hasOwn(hubLicenses, text)) return text;
  const llama = /^llama-?(\d)(?:[.-](\d))?$/.exec(text);
  if (llama) {
    const id = `llama${llama[1]}${llama[2] && llama[2] !== "0" ? `.${llama[2]}` : ""}`;
    return Object.hasOwn(hubLicenses, id) ? id : undefined;
  }
  if (/^gemma(-terms(-of-use)?)?$/.test(text)) return "gemma";
  // "apache2", "apache-2", "gpl-3", "cc-by-nc-4": a version without its ".0".
  text = text.replace(/^([a-z-]*?)-?(\d)$/, "$1-$2.0");
  return Object.hasOwn(hubLicenses, text) ? text : undefined;
}
