import { createHash } from "node:crypto";

/** Git's object id: sha1 of `"{type} {size}\0"` + content. */
export function gitOid(type: "blob" | "tree" | "commit", content: Buffer): string {
  return createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest("hex");
}

/** The pointer git stores for an LFS file; its blob oid is the entry's `oid`, its length the `pointerSize`. */
export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

interface TreeNode {
  files: Map<string, string>;
  dirs: Map<string, TreeNode>;
}

/** Every directory's git tree oid ("" for the root), from the flat path → blob oid map of a commit. */
export function treeOids(blobs: ReadonlyMap<string, string>): Map<string, string> {
  const root: TreeNode = { files: new Map(), dirs: new Map() };
  for (const [path, oid] of blobs) {
    const parts = path.split("/");
    const name = parts.pop() ?? path;
    let node = root;
    for (const part of parts) {
      let next = node.dirs.get(part);
      if (!next) node.dirs.set(part, (next = { files: new Map(), dirs: new Map() }));
      node = next;
    }
    node.files.set(name, oid);
  }
  const out = new Map<string, string>();
  hashTree(root, "", out);
  return out;
}

function hashTree(node: TreeNode, prefix: string, out: Map<string, string>): string {
  const entries: { sortKey: string; bytes: Buffer }[] = [];
  for (const [name, oid] of node.files) entries.push({ sortKey: name, bytes: treeEntry("100644", name, oid) });
  for (const [name, child] of node.dirs) {
    const oid = hashTree(child, prefix ? `${prefix}/${name}` : name, out);
    // Git sorts a directory as if its name ended in "/".
    entries.push({ sortKey: `${name}/`, bytes: treeEntry("40000", name, oid) });
  }
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.sortKey), Buffer.from(b.sortKey)));
  const oid = gitOid("tree", Buffer.concat(entries.map((e) => e.bytes)));
  out.set(prefix, oid);
  return oid;
}

function treeEntry(mode: string, name: string, oid: string): Buffer {
  return Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, "hex")]);
}

/** A git commit object's oid, so commit ids are real 40-hex git ids of a real tree. */
export function commitOid(params: { tree: string; parents: string[]; author: string; date: Date; message: string }): string {
  const stamp = `${Math.floor(params.date.getTime() / 1000)} +0000`;
  const who = `${params.author} <${params.author}@users.noreply.huggingface.co> ${stamp}`;
  const lines = [`tree ${params.tree}`, ...params.parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`, "", params.message];
  return gitOid("commit", Buffer.from(`${lines.join("\n")}\n`));
}
