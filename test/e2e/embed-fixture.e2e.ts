import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gguf } from "@huggingface/gguf";
import { beforeAll, describe, expect, it } from "vitest";
import { cosine, convertHf, hfReference, llamaEmbed, llamaTokenIds, quantizeGguf, tinyEmbedModel, type ReferenceEmbedding } from "../embed-helpers.js";
import { tempDir } from "../helpers.js";

/** Four corpus sentences from four paragraphs, one far from the corpus, and one that exercises normalisation. */
const sentences = [
  "The river starts high in the hills, where snow melts slowly in the spring.",
  "She mixes flour, water, salt and yeast, and she lets the dough rise while she heats the oven.",
  "A tool that is cared for will last for many years and will do its work well.",
  "Students come in the evening to read and to write.",
  "Quantum chromodynamics describes how quarks and gluons interact!",
  "Café CRÈME costs 3.50 € — isn't it?\tNaïve résumé, back\\slash, 東京 🚀",
];

/** Cosine distance (1 − cosine similarity). */
const distance = (a: readonly number[], b: readonly number[]) => 1 - cosine(a, b);


describe("embedding fixture: the tiny BERT through the pinned converter and llama-embedding, against transformers", () => {
  let f32: string;
  let q8: string;
  let reference: ReferenceEmbedding[];
  let model: string;

  beforeAll(async () => {
    model = await tinyEmbedModel();
    const work = await tempDir("embed-fixture");
    // The converter and the reference each spend seconds importing torch: run them side by side.
    [f32, reference] = await Promise.all([
      convertHf({ modelDir: model, out: join(work, "Tiny-Embed-F32.gguf"), outtype: "f32" }),
      hfReference({ modelDir: model, sentences }),
    ]);
    q8 = await quantizeGguf({ input: f32, out: join(work, "Tiny-Embed-Q8_0.gguf"), type: "Q8_0" });
  });

  it("should convert to a non-causal, mean-pooling BERT with the WordPiece vocabulary and its special tokens", async () => {
    const config = JSON.parse(await readFile(join(model, "config.json"), "utf8")) as { hidden_size: number; num_hidden_layers: number; vocab_size: number; max_position_embeddings: number };
    const { metadata, tensorInfos } = await gguf(f32, { allowLocalFile: true });
    const m = metadata as unknown as Record<string, unknown>;
    expect(m).toMatchObject({
      "general.architecture": "bert",
      "general.license": "apache-2.0",
      "general.file_type": 0,
      "bert.block_count": config.num_hidden_layers,
      "bert.embedding_length": config.hidden_size,
      "bert.context_length": config.max_position_embeddings,
      "bert.attention.causal": false,
      // LLAMA_POOLING_TYPE_MEAN, from modules.json → 1_Pooling/config.json.
      "bert.pooling_type": 1,
      "tokenizer.ggml.model": "bert",
      // The converter knows this WordPiece tokenizer by its hash, which it lists for bge-small and for jina-v2 (the
      // later entry wins); llama.cpp ignores the pre-tokenizer name of a WordPiece vocabulary.
      "tokenizer.ggml.pre": expect.stringMatching(/^(bert-bge|jina-v2-en)$/) as unknown,
      "tokenizer.ggml.token_type_count": 2,
      "tokenizer.ggml.bos_token_id": 101,
      "tokenizer.ggml.eos_token_id": 102,
      "tokenizer.ggml.seperator_token_id": 102,
      "tokenizer.ggml.padding_token_id": 0,
      "tokenizer.ggml.unknown_token_id": 100,
      "tokenizer.ggml.mask_token_id": 103,
    });
    const tokens = m["tokenizer.ggml.tokens"] as string[];
    expect(tokens).toHaveLength(config.vocab_size);
    // The converter's phantom-space form: control tokens as they are, word starts with ▁, "##" continuations bare.
    expect([tokens[0], tokens[101], tokens[102], tokens[1996], tokens[2015]]).toEqual(["[PAD]", "[CLS]", "[SEP]", "▁the", "s"]);
    // Five embedding tensors and sixteen per layer; the pooler is dropped.
    expect(tensorInfos).toHaveLength(5 + 16 * config.num_hidden_layers);
    expect(tensorInfos.some((t) => t.name.includes("pooler"))).toBe(false);
  });

  it("should tokenize every sentence to transformers' ids", async () => {
    for (const ref of reference) {
      expect(await llamaTokenIds({ gguf: f32, text: ref.sentence }), ref.sentence).toEqual(ref.ids);
    }
    // The fixture's vocabulary knows the corpus but not everything: the emoji is [UNK].
    expect(reference.at(-1)?.ids).toContain(100);
  });

  it("should give transformers' embeddings within 1e-4 cosine distance (F32)", async () => {
    const ours = await llamaEmbed({ gguf: f32, sentences });
    expect(ours).toHaveLength(sentences.length);
    reference.forEach((ref, i) => {
      const vector = ours[i] ?? [];
      expect(vector).toHaveLength(64);
      expect(distance(vector, ref.embedding), ref.sentence).toBeLessThan(1e-4);
      // Both are unit vectors.
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    });
  });

  it("should stay within 1e-2 cosine distance of transformers after Q8_0", async () => {
    const ours = await llamaEmbed({ gguf: q8, sentences });
    reference.forEach((ref, i) => expect(distance(ours[i] ?? [], ref.embedding), ref.sentence).toBeLessThan(1e-2));
  });

  it("should give different sentences clearly different vectors", async () => {
    const ours = await llamaEmbed({ gguf: f32, sentences: [...sentences, sentences[0] ?? ""] });
    const similarity = (vectors: number[][], i: number, j: number) => cosine(vectors[i] ?? [], vectors[j] ?? []);
    for (let i = 0; i < sentences.length; i++) {
      for (let j = i + 1; j < sentences.length; j++) {
        const pair = `${sentences[i]} | ${sentences[j]}`;
        // Corpus sentences of different paragraphs are far apart (measured: at most 0.36); any two, not close.
        const bound = i < 4 && j < 4 ? 0.6 : 0.9;
        expect(similarity(reference.map((r) => r.embedding), i, j), pair).toBeLessThan(bound);
        expect(similarity(ours, i, j), pair).toBeLessThan(bound);
      }
    }
    // The same sentence twice in one batch: the same vector.
    expect(distance(ours[0] ?? [], ours.at(-1) ?? [])).toBeLessThan(1e-6);
    // Two sentences of the same corpus paragraph are near each other, as trained.
    const [river, mill] = await llamaEmbed({ gguf: f32, sentences: [sentences[0] ?? "", "It runs past the old mill and the stone bridge, then widens as it reaches the town."] });
    expect(cosine(river ?? [], mill ?? [])).toBeGreaterThan(0.8);
  });
});
