import type { CommitOperation } from "./apply-commit.js";
import { gitOid } from "./git-objects.js";
import type { ObjectStore } from "./object-store.js";

/** Stores a file sent inline (base64 in a commit or in `repos/create`) and describes it as a commit operation. */
export async function inlineFile(objects: ObjectStore, path: string, content: Buffer): Promise<CommitOperation> {
  const sha256 = await objects.putBuffer(content);
  return { key: "file", path, sha256, gitOid: gitOid("blob", content), size: content.length };
}
