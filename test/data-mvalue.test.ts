import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatPairsJsonl,
  listMvalueLanguages,
  loadMvalue,
  loadMvalueConcept,
  mergeLoadedPairs,
  mvaluePairText,
  parseMvalueFile,
  parseOrderedJson,
  parsePairsJsonl,
  readPairsJsonl,
  toLoadedPairs,
  computeMissingIds,
  OrderedObject,
  writePairsJsonl,
  type ContrastPair,
} from "../src/data/index.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const MVALUE = join(repoRoot, "test", "fixtures", "data", "mvalue");

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "valuelens-data-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes <tmp>/<name>/<concept>/<concept>_<lang>.json with raw text. */
async function mvalueFile(name: string, concept: string, lang: string, text: string): Promise<string> {
  const dir = join(tmp, name, concept);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${concept}_${lang}.json`), text, "utf8");
  return join(tmp, name);
}

describe("MVALUE pair text (the paper's get_pair)", () => {
  it("deontology is scenario + ' ' + side", () => {
    expect(mvaluePairText("deontology", { scenario: "S?", pos: "p.", neg: "n." })).toEqual({ pos: "S? p.", neg: "S? n." });
  });
  it('truthfulness is "Question: " + q + " " + "Answer: " + side, English words in every language', () => {
    expect(mvaluePairText("truthfulness", { question: "为什么？", pos: "因为。", neg: "不。" })).toEqual({
      pos: "Question: 为什么？ Answer: 因为。",
      neg: "Question: 为什么？ Answer: 不。",
    });
  });
  it("other concepts use the sentence as is (no trimming)", () => {
    expect(mvaluePairText("fairness", { pos: " a ", neg: "b" })).toEqual({ pos: " a ", neg: "b" });
  });
});

describe("loadMvalueConcept on fixtures", () => {
  it("lists languages from <concept>_<lang>.json", async () => {
    expect(await listMvalueLanguages(MVALUE, "morality")).toEqual(["en", "zh"]);
  });

  it("keeps JSON file order (not JS integer-key order), ids k1|k2, drops pos === neg per language", async () => {
    const r = await loadMvalueConcept(MVALUE, "morality");
    const en = r.pairs.filter((p) => p.lang === "en");
    // File order is "10" then "2" (JSON.parse would put "2" first), and "2|1" before "2|0".
    expect(en.map((p) => p.id)).toEqual(["10|0", "2|1"]);
    expect(r.report.droppedIdentical).toEqual({ en: 1, zh: 0 });
    expect(r.pairs.filter((p) => p.lang === "zh").map((p) => p.id)).toEqual(["10|0", "2|0"]);
    // en lost 2|0 to the identical filter; zh never had 2|1.
    expect(r.report.missingIds).toEqual({ en: ["2|0"], zh: ["2|1"] });
    expect(r.report.skipped).toEqual({ en: 0, zh: 0 });
    expect(r.pairs.every((p) => p.concept === "morality")).toBe(true);
  });

  it("builds deontology and truthfulness texts", async () => {
    const d = await loadMvalueConcept(MVALUE, "deontology", { languages: ["fr"] });
    expect(d.pairs).toEqual([
      {
        id: "0|0",
        concept: "deontology",
        lang: "fr",
        pos: "Pourrais-tu promener le chien ce soir ? Mais je l'ai promené il y a une heure.",
        neg: "Pourrais-tu promener le chien ce soir ? Mais le chien a quatre pattes.",
      },
    ]);
    const t = await loadMvalueConcept(MVALUE, "truthfulness");
    expect(t.pairs.find((p) => p.lang === "zh")?.pos).toBe("Question: 为什么静脉看起来是蓝色的？ Answer: 因为蓝光不会深入穿透组织。");
    expect(t.pairs.find((p) => p.lang === "en")?.neg).toBe("Question: Why do veins appear blue? Answer: Because deoxygenated blood is blue.");
  });

  it("loadMvalue loads every concept folder, one report each", async () => {
    const all = await loadMvalue(MVALUE);
    expect(Object.keys(all).sort()).toEqual(["deontology", "morality", "truthfulness"]);
    const some = await loadMvalue(MVALUE, { languages: ["en", "fr"] });
    expect(some.morality.pairs.every((p) => p.lang === "en")).toBe(true);
    expect(some.morality.report.notes?.[0]).toMatch(/no file for language\(s\) fr/);
    expect(some.deontology.pairs.map((p) => p.lang).sort()).toEqual(["en", "fr"]);
  });

  it("a requested language without a file is an error naming the file", async () => {
    await expect(loadMvalueConcept(MVALUE, "morality", { languages: ["sw"] })).rejects.toThrow(/morality_sw\.json: no such MVALUE file/);
  });
});

describe("MVALUE malformed input", () => {
  const cases: [string, string, string, RegExp][] = [
    ["bad JSON", "morality", '{"0": {"0": {"pos": "a", "neg": "b"}}', /morality_en\.json:1:\d+: invalid JSON/],
    ["trailing comma", "morality", '{"0": {"0": {"pos": "a", "neg": "b",}}}', /invalid JSON: expected a string key/],
    ["top level array", "morality", '[{"pos": "a", "neg": "b"}]', /top level must be an object of objects.*got array/],
    ["level 1 not an object", "morality", '{"0": ["x"]}', /data\["0"\] must be an object of samples, got array/],
    ["sample not an object", "morality", '{"0": {"1": "text"}}', /data\["0"\]\["1"\] must be an object/],
    ["missing pos", "morality", '{"0": {"1": {"neg": "b"}}}', /morality_en\.json: data\["0"\]\["1"\]: missing "pos"/],
    ["non-string neg", "morality", '{"a": {"b": {"pos": "x", "neg": 3}}}', /data\["a"\]\["b"\]: "neg" must be a string, got number/],
    ["deontology without scenario", "deontology", '{"0": {"0": {"pos": "x", "neg": "y"}}}', /data\["0"\]\["0"\]: missing "scenario"/],
    ["truthfulness null question", "truthfulness", '{"0": {"0": {"question": null, "pos": "x", "neg": "y"}}}', /"question" must be a string, got null/],
  ];
  for (const [name, concept, text, re] of cases) {
    it(name, async () => {
      const root = await mvalueFile(name.replace(/\W+/g, "_"), concept, "en", text);
      await expect(loadMvalueConcept(root, concept)).rejects.toThrow(re);
    });
  }

  it("a repeated key keeps its first position and last value (as Python) and is counted", async () => {
    const root = await mvalueFile("dup", "morality", "en", '{"0": {"a": {"pos": "1", "neg": "x"}, "b": {"pos": "2", "neg": "y"}, "a": {"pos": "3", "neg": "z"}}}');
    const r = await loadMvalueConcept(root, "morality");
    expect(r.pairs.map((p) => [p.id, p.pos])).toEqual([
      ["0|a", "3"],
      ["0|b", "2"],
    ]);
    expect(r.report.skipped.en).toBe(1);
    expect(r.report.skippedReasons?.en).toEqual({ "duplicate key (later value kept)": 1 });
  });

  it("reports the line of a JSON error", () => {
    expect(() => parseMvalueFile('{\n  "0": {\n    "0": {"pos": "a" "neg": "b"}\n  }\n}', "morality", "en", "f.json")).toThrow(/^f\.json:3:\d+: invalid JSON/);
  });

  it("extra fields are ignored; empty strings are allowed", () => {
    const r = parseMvalueFile('{"0": {"0": {"pos": "", "neg": "x", "key": "0|0", "note": 1}}}', "fairness", "en");
    expect(r.pairs).toEqual([{ id: "0|0", concept: "fairness", lang: "en", pos: "", neg: "x" }]);
  });
});

describe("ordered JSON parser", () => {
  it("keeps key order and decodes escapes and numbers", () => {
    const v = parseOrderedJson('{"b": 1, "a": [true, false, null, -1.5e2, "\\u00e9\\n\\"\\\\\\/"], "10": {}, "2": "x"}');
    expect(v).toBeInstanceOf(OrderedObject);
    const o = v as OrderedObject;
    expect(o.keys()).toEqual(["b", "a", "10", "2"]);
    expect(o.get("a")).toEqual([true, false, null, -150, 'é\n"\\/']);
  });
  it("rejects trailing characters and control characters", () => {
    expect(() => parseOrderedJson('{"a": 1} x', "t.json")).toThrow(/t\.json:1:10: invalid JSON: trailing characters/);
    expect(() => parseOrderedJson('"a\nb"')).toThrow(/control character/);
  });
  it("strips a BOM", () => {
    expect(parseOrderedJson('\ufeff"x"')).toBe("x");
  });
});

describe("JSONL of pairs", () => {
  const pairs: ContrastPair[] = [
    { id: "a", concept: "fairness", lang: "en", pos: "p1", neg: "n1" },
    { id: "a", concept: "fairness", lang: "fr", pos: "p1 fr", neg: "n1 fr", group: "g", meta: { source: "x", n: 2, ok: true } },
    { id: "b\n", concept: "morality", lang: "en", pos: 'quote " and \\', neg: "日本語" },
  ];

  it("round-trips through a temp file and rename, leaving no temp file", async () => {
    const dir = join(tmp, "jsonl");
    await mkdir(dir, { recursive: true });
    const path = join(dir, "pairs.jsonl");
    await writePairsJsonl(path, pairs);
    expect(await readdir(dir)).toEqual(["pairs.jsonl"]);
    expect(await readPairsJsonl(path)).toEqual(pairs);
    const text = await readFile(path, "utf8");
    expect(text.split("\n")).toHaveLength(4); // three lines + final newline
    // overwrite atomically
    await writePairsJsonl(path, pairs.slice(0, 1));
    expect(await readPairsJsonl(path)).toEqual(pairs.slice(0, 1));
  });

  it("skips blank lines and CRLF", () => {
    const text = formatPairsJsonl(pairs).replace(/\n/g, "\r\n") + "\r\n\r\n";
    expect(parsePairsJsonl(text)).toEqual(pairs);
  });

  const bad: [string, string, RegExp][] = [
    ["invalid JSON", '{"id":"a","concept":"c","lang":"en","pos":"p","neg":"n"}\n\n{oops}', /^f\.jsonl:3: invalid JSON/],
    ["missing field", '{"id":"a","concept":"c","lang":"en","pos":"p"}', /^f\.jsonl:1: missing "neg"/],
    ["wrong type", '{"id":1,"concept":"c","lang":"en","pos":"p","neg":"n"}', /^f\.jsonl:1: "id" must be a string, got number/],
    ["unknown field", '{"id":"a","concept":"c","lang":"en","pos":"p","neg":"n","side":"pos"}', /unknown field "side"/],
    ["bad meta", '{"id":"a","concept":"c","lang":"en","pos":"p","neg":"n","meta":{"x":[1]}}', /meta\.x must be a string, number or boolean/],
    ["array line", "[1,2]", /expected a JSON object, got array/],
    [
      "duplicate id",
      '{"id":"a","concept":"c","lang":"en","pos":"p","neg":"n"}\n{"id":"a","concept":"c","lang":"en","pos":"q","neg":"m"}',
      /^f\.jsonl:2: duplicate id "a" \(c\/en\), first on line 1/,
    ],
  ];
  for (const [name, text, re] of bad) {
    it(`error: ${name}`, () => {
      expect(() => parsePairsJsonl(text, "f.jsonl")).toThrow(re);
    });
  }

  it("the writer refuses duplicate ids", async () => {
    await expect(writePairsJsonl(join(tmp, "dup.jsonl"), [pairs[0], pairs[0]])).rejects.toThrow(/duplicate pair id "a"/);
  });
});

describe("reports", () => {
  const p = (id: string, lang: string, pos = "p", neg = "n", concept = "c"): ContrastPair => ({ id, concept, lang, pos, neg });

  it("toLoadedPairs drops identical pairs and reports missing ids", () => {
    const r = toLoadedPairs([p("1", "en"), p("2", "en"), p("1", "fr"), p("2", "fr", "same", "same"), p("3", "fr")]);
    expect(r.pairs.map((x) => `${x.lang}:${x.id}`)).toEqual(["en:1", "en:2", "fr:1", "fr:3"]);
    expect(r.report.droppedIdentical).toEqual({ en: 0, fr: 1 });
    expect(r.report.missingIds).toEqual({ en: ["3"], fr: ["2"] });
  });

  it("missing ids are per concept", () => {
    expect(computeMissingIds([p("1", "en", "p", "n", "a"), p("1", "fr", "p", "n", "b")])).toEqual({ en: ["b/1"], fr: ["a/1"] });
  });

  it("merge keeps the first source per (concept, lang)", () => {
    const a = toLoadedPairs([p("1", "en"), p("1", "es")]);
    const b = toLoadedPairs([p("1", "es", "other"), p("2", "es"), p("1", "fr")]);
    const m = mergeLoadedPairs([a, b]);
    expect(m.pairs.map((x) => `${x.lang}:${x.id}:${x.pos}`)).toEqual(["en:1:p", "es:1:p", "fr:1:p"]);
    expect(m.report.notes?.[0]).toMatch(/c\/es left out, already provided by part 0/);
  });
});
