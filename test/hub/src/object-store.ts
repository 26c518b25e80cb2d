import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";

export interface ReceivedBytes {
  path: string;
  size: number;
  sha256: string;
  md5: string;
}

/** File contents, stored once under `objects/` by sha256, whatever repo or commit refers to them. */
export class ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  pathOf(sha256: string): string {
    return join(this.root, "objects", sha256.slice(0, 2), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return access(this.pathOf(sha256)).then(
      () => true,
      () => false,
    );
  }

  /** A fresh path under `tmp/` on the same disk, so that a finished upload can be renamed into place. */
  async tempPath(label: string): Promise<string> {
    await mkdir(join(this.root, "tmp"), { recursive: true });
    return join(this.root, "tmp", `${label}-${randomBytes(8).toString("hex")}`);
  }

  /** Streams bytes to `path` while hashing them: nothing is held in memory; a broken stream leaves no file behind. */
  async receive(source: Readable | AsyncIterable<Buffer>, path: string): Promise<ReceivedBytes> {
    const sha256 = createHash("sha256");
    const md5 = createHash("md5");
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sha256.update(chunk);
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, hasher, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { path, size, sha256: sha256.digest("hex"), md5: md5.digest("hex") };
  }

  /** Moves a verified temp file into the store (content-addressed, so an existing copy is simply kept). */
  async adopt(tempFile: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) {
      await rm(tempFile, { force: true });
      return;
    }
    await mkdir(join(target, ".."), { recursive: true });
    await rename(tempFile, target);
  }

  async putBuffer(content: Buffer): Promise<string> {
    const sha256 = createHash("sha256").update(content).digest("hex");
    if (await this.has(sha256)) return sha256;
    const temp = await this.tempPath("inline");
    await writeFile(temp, content);
    await this.adopt(temp, sha256);
    return sha256;
  }
}
