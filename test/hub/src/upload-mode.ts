import { isLfsTracked } from "./git-patterns.js";

/** The Hub's size rule: larger files always go to LFS. */
export const LFS_SIZE_THRESHOLD = 10 * 1024 * 1024;

/** Whether a sample is text: no NUL byte and valid UTF-8 (a character cut by the end of a partial sample is fine). */
function isText(sample: Buffer, partial: boolean): boolean {
  if (sample.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: partial });
    return true;
  } catch {
    return false;
  }
}

/**
 * How the Hub wants a file sent (its `preupload` answer): LFS when `.gitattributes` tracks it, when it is 10 MiB or more,
 * or when its first 512 bytes are not text; an empty file is always regular (LFS cannot store it).
 */
export function uploadMode(params: { path: string; size: number; sample: Buffer; gitattributes: string }): "lfs" | "regular" {
  if (params.size === 0) return "regular";
  if (isLfsTracked(params.gitattributes, params.path)) return "lfs";
  if (params.size >= LFS_SIZE_THRESHOLD) return "lfs";
  return isText(params.sample, params.sample.length < params.size) ? "regular" : "lfs";
}
