import { copyFile, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findLicense } from "./find-license.js";

const fixtures = fileURLToPath(new URL("../fixtures/licenses/", import.meta.url));
const at = (name: string) => join(fixtures, name);

describe("findLicense", () => {
  it.each([
    ["apache-2.0", "apache-2.0", []],
    ["mit", "mit", ["LICENSE"]],
    ["llama3.1", "llama3.1", ["LICENSE", "USE_POLICY.md"]],
    ["gemma", "gemma", []],
    ["cc-by-nc-4.0", "cc-by-nc-4.0", []],
    ["other-link", "other", ["LICENSE"]],
    ["llama3-legacy", "llama3", ["LICENSE"]],
  ])("should resolve the %s model card to %s with its license files", async (name, id, files) => {
    const found = await findLicense({ dir: at(name) });
    expect(found.id).toBe(id);
    expect(found.files.map((f) => f.slice(at(name).length + 1))).toEqual(files);
    expect(found.conflict).toBeUndefined();
  });

  it("should read license_name and license_link", async () => {
    expect(await findLicense({ dir: at("other-link") })).toMatchObject({ id: "other", name: "qwen", link: "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE" });
    expect(await findLicense({ dir: at("llama3-legacy") })).toMatchObject({ id: "llama3", name: "llama3", link: "LICENSE" });
  });

  it("should identify license files by their text and agree with the card", async () => {
    const found = await findLicense({ dir: at("llama3.1") });
    expect(found.claims).toMatchObject([
      { field: "license", value: "llama3.1", id: "llama3.1" },
      { field: "text", value: "the llama3.1 text", id: "llama3.1" },
    ]);
  });

  it("should find nothing in a card without a license and no license file", async () => {
    const found = await findLicense({ dir: at("missing") });
    expect(found.id).toBeUndefined();
    expect(found.claims).toEqual([]);
  });

  it("should report a card and a license file that name different licenses", async () => {
    const found = await findLicense({ dir: at("contradiction") });
    expect(found.conflict).toMatch(/README\.md says apache-2\.0 but .*LICENSE is the mit text/);
  });

  it("should take the license from a LICENSE file when there is no card, and call an unknown text other", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "LICENSE.txt"), "                                 Apache License\n                           Version 2.0, January 2004\n");
    expect((await findLicense({ dir })).id).toBe("apache-2.0");
    const other = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(other, "LICENSE"), "You may use these weights on Tuesdays.\n");
    expect((await findLicense({ dir: other })).id).toBe("other");
  });

  it("should report front matter that does not parse", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "README.md"), "---\nlicense: [apache-2.0\n---\n");
    expect((await findLicense({ dir })).cardError?.message).toMatch(/does not parse/);
  });

  it("should follow symlinks, as in a Hub cache snapshot (links into its own blobs/), and refuse links anywhere else", async () => {
    const repo = await mkdtemp(join(tmpdir(), "find-license-"));
    const dir = join(repo, "snapshots", "abc123");
    await mkdir(dir, { recursive: true });
    await mkdir(join(repo, "blobs"));
    for (const name of ["README.md", "LICENSE", "USE_POLICY.md"]) {
      await copyFile(join(at("llama3.1"), name), join(repo, "blobs", name.toLowerCase()));
      await symlink(join("..", "..", "blobs", name.toLowerCase()), join(dir, name));
    }
    const found = await findLicense({ dir: `${dir}/` });
    expect(found).toMatchObject({ id: "llama3.1", files: [join(dir, "LICENSE"), join(dir, "USE_POLICY.md")] });
    expect(found.conflict).toBeUndefined();
    const plain = await mkdtemp(join(tmpdir(), "find-license-"));
    await symlink(join(at("llama3.1"), "LICENSE"), join(plain, "LICENSE"));
    await expect(findLicense({ dir: plain })).rejects.toThrow(`is a link to ${join(at("llama3.1"), "LICENSE")}, outside ${plain}`);
  });

  it("should treat `license: unknown` as no license", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "README.md"), "---\nlicense: unknown\n---\n");
    expect(await findLicense({ dir })).toMatchObject({ claims: [] });
  });

  it("should read a card's list of licenses as alternatives", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "README.md"), "---\nlicense:\n- apache-2.0\n- mit\n---\n");
    expect(await findLicense({ dir })).toMatchObject({ id: "apache-2.0", alternatives: ["apache-2.0", "mit"] });
  });

  it("should read `other` over a known license text as that license, and ship the file license_link names", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "README.md"), "---\nlicense: other\nlicense_link: ./MODEL_LICENSE\n---\n");
    await copyFile(join(at("llama3.1"), "LICENSE"), join(dir, "MODEL_LICENSE"));
    expect(await findLicense({ dir })).toMatchObject({ id: "llama3.1", files: [join(dir, "MODEL_LICENSE")] });
  });

  it("should tell the Boost text from MIT, and a license's title from licenses it mentions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "find-license-"));
    await writeFile(join(dir, "LICENSE"), "Boost Software License - Version 1.0 - August 17th, 2003\n\nPermission is hereby granted, free of charge, to any person\n");
    expect((await findLicense({ dir })).id).toBe("bsl-1.0");
    await writeFile(join(dir, "LICENSE"), "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nThis replaces the Llama 2 Community License for this model.\n");
    expect((await findLicense({ dir })).id).toBe("llama3.2");
  });
});
