import { describe, expect, it } from "vitest";
import { Rng } from "../src/util/rng.js";
import {
  BLOOMZ_TEMPLATE,
  LLAMA2_CHAT_TEMPLATE,
  QWEN_CHAT_TEMPLATE,
  RAW_TEMPLATE,
  applyTemplate,
  builtinChatRenderer,
  captureTexts,
  chatTemplate,
  customTemplate,
  detectChatTemplateFamily,
  paperSplit,
  resolveTemplate,
  shuffleInPlace,
  splitByItem,
  splitIds,
  templateForModel,
  templateRecord,
  validateTemplateText,
  type ContrastPair,
  type SplitPair,
} from "../src/data/index.js";

describe("paper templates", () => {
  it("LLaMA-2-chat keeps the trailing space", () => {
    expect(applyTemplate(LLAMA2_CHAT_TEMPLATE, "I helped.")).toBe("[INST] I helped. [/INST] ");
    expect(LLAMA2_CHAT_TEMPLATE.id).toBe("llama2-chat");
  });
  it("Qwen-chat, BLOOMZ and raw are the text itself, with distinct ids", () => {
    for (const t of [QWEN_CHAT_TEMPLATE, BLOOMZ_TEMPLATE, RAW_TEMPLATE]) expect(applyTemplate(t, " x ")).toBe(" x ");
    expect([QWEN_CHAT_TEMPLATE.id, BLOOMZ_TEMPLATE.id, RAW_TEMPLATE.id]).toEqual(["qwen-chat", "bloomz", "raw"]);
  });
  it("inserts verbatim: no $-pattern expansion, braces kept", () => {
    expect(applyTemplate(LLAMA2_CHAT_TEMPLATE, "cost $& and $1 {input}")).toBe("[INST] cost $& and $1 {input} [/INST] ");
  });
  it("templateForModel suggests the paper's template", () => {
    expect(templateForModel("Llama-2-7b-chat").id).toBe("llama2-chat");
    expect(templateForModel({ arch: "llama", name: "LLaMA v2 13B Chat" }).id).toBe("llama2-chat");
    expect(templateForModel({ arch: "llama", name: "Llama 2 7B" }).id).toBe("raw"); // base model
    expect(templateForModel({ arch: "qwen", name: "Qwen-7B-Chat" }).id).toBe("qwen-chat");
    expect(templateForModel({ arch: "bloom", name: null }).id).toBe("bloomz");
    expect(templateForModel("Meta-Llama-3-8B-Instruct").id).toBe("raw");
  });
});

describe("custom templates", () => {
  it("needs {input} exactly once", () => {
    expect(() => customTemplate("no placeholder")).toThrow(/exactly once, found 0/);
    expect(() => customTemplate("{input} and {input}")).toThrow(/exactly once, found 2/);
    expect(() => validateTemplateText("{inpu}")).toThrow(/found 0/);
  });
  it("has a stable custom:<sha1-8> id", () => {
    const t = customTemplate("User: {input}\nAssistant:");
    expect(t.id).toMatch(/^custom:[0-9a-f]{8}$/);
    expect(customTemplate("User: {input}\nAssistant:").id).toBe(t.id);
    expect(customTemplate("User: {input}\nAssistant: ").id).not.toBe(t.id);
    expect(applyTemplate(t, "hi")).toBe("User: hi\nAssistant:");
  });
  it("resolveTemplate takes built-in ids or template texts", () => {
    expect(resolveTemplate("llama2-chat")).toBe(LLAMA2_CHAT_TEMPLATE);
    expect(resolveTemplate("Q: {input}").id).toMatch(/^custom:/);
    expect(() => resolveTemplate("llama3")).toThrow(/unknown template "llama3": use one of llama2-chat, qwen-chat, bloomz, raw/);
  });
  it("templateRecord maps ids to texts and catches id clashes", () => {
    expect(templateRecord([LLAMA2_CHAT_TEMPLATE, RAW_TEMPLATE])).toEqual({ "llama2-chat": "[INST] {input} [/INST] ", raw: "{input}" });
    expect(() => templateRecord([RAW_TEMPLATE, { id: "raw", text: "x{input}" }])).toThrow(/share id raw/);
  });
});

// Abridged but structurally faithful copies of real GGUF chat templates.
const QWEN2 =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const CHATML_PLAIN =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% endif %}{% for message in loop_messages %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}" +
  "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
const LLAMA31 =
  '{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}' +
  '{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}{{- "Cutting Knowledge Date: December 2023\\n" }}{{- "Today Date: " + date_string + "\\n\\n" }}' +
  '{{- system_message }}{{- "<|eot_id|>" }}{%- for message in messages %}{{- \'<|start_header_id|>\' + message[\'role\'] + \'<|end_header_id|>\\n\\n\'+ message[\'content\'] | trim + \'<|eot_id|>\' }}{%- endfor %}' +
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
const GEMMA =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}" +
  "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

describe("GGUF chat templates", () => {
  it("detects the families", () => {
    expect(detectChatTemplateFamily(QWEN2)).toBe("chatml");
    expect(detectChatTemplateFamily(LLAMA2)).toBe("llama2");
    expect(detectChatTemplateFamily(LLAMA3)).toBe("llama3");
    expect(detectChatTemplateFamily(LLAMA31)).toBe("llama3");
    expect(detectChatTemplateFamily(GEMMA)).toBe("gemma");
    expect(detectChatTemplateFamily("{{ messages }}")).toBeNull();
  });

  it("renders one user turn with the generation prompt, without BOS", () => {
    expect(builtinChatRenderer(QWEN2).render("Hi")).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(builtinChatRenderer(CHATML_PLAIN).render("Hi")).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect(builtinChatRenderer(LLAMA2).render("Hi")).toBe("[INST] Hi [/INST]");
    expect(builtinChatRenderer(LLAMA3).render("Hi")).toBe(
      "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(builtinChatRenderer(LLAMA31).render("Hi")).toBe(
      "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(builtinChatRenderer(GEMMA).render("Hi")).toBe("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  });

  it("gives a gguf:<family> template usable like any other", () => {
    const t = chatTemplate(GEMMA);
    expect(t.id).toBe("gguf:gemma");
    expect(t.text).toBe("<start_of_turn>user\n{input}<end_of_turn>\n<start_of_turn>model\n");
    expect(applyTemplate(t, "x")).toBe(builtinChatRenderer(GEMMA).render("x"));
  });

  it("raises a clear error for unrecognised templates", () => {
    expect(() => chatTemplate("{% for m in messages %}<|user|>{{ m.content }}<|end|>{% endfor %}")).toThrow(
      /unrecognised chat template \(not ChatML, Llama-2 \[INST\], Llama-3 header or Gemma turn style\).*ChatTemplateRenderer/,
    );
  });

  it("accepts a caller's renderer and checks it inserts the message verbatim", () => {
    const phi = { family: "phi3", render: (m: string) => `<|user|>\n${m}<|end|>\n<|assistant|>\n` };
    expect(chatTemplate(phi)).toEqual({ id: "gguf:phi3", text: "<|user|>\n{input}<|end|>\n<|assistant|>\n" });
    expect(() => chatTemplate({ family: "trim", render: (m: string) => `<u>${m.trim()}</u>` })).toThrow(/does not insert the message verbatim/);
    expect(() => chatTemplate({ family: "two", render: (m: string) => `${m}${m}` })).toThrow(/exactly once, found 2/);
    expect(() => chatTemplate({ family: "bad name", render: (m: string) => m })).toThrow(/plain name/);
  });
});

// ---- splits -----------------------------------------------------------------------------------------------

function pairs(concept: string, lang: string, ids: readonly string[], group?: (id: string) => string): ContrastPair[] {
  return ids.map((id) => ({ id, concept, lang, pos: `${lang} pos ${id}`, neg: `${lang} neg ${id}`, ...(group ? { group: group(id) } : {}) }));
}
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `item${i}`);

describe("shuffleInPlace", () => {
  it("is a deterministic permutation", () => {
    const a = shuffleInPlace(ids(50), new Rng(1));
    expect([...a].sort()).toEqual(ids(50).sort());
    expect(shuffleInPlace(ids(50), new Rng(1))).toEqual(a);
    expect(shuffleInPlace(ids(50), new Rng(2))).not.toEqual(a);
  });
});

describe("splitByItem", () => {
  it("cuts train = floor(0.8 N), test = rest, default seed 1, deterministic and input-order independent", () => {
    const ps = pairs("morality", "en", ids(101));
    const a = splitByItem(ps);
    expect(a.seed).toBe(1);
    expect(a.counts.morality).toEqual({ train: 80, val: 0, test: 21, unused: 0 });
    const b = splitByItem([...ps].reverse(), { seed: 1 });
    for (const p of a.pairs) expect(b.units.get("morality")!.get(p.id)).toBe(p.split);
    const c = splitByItem(ps, { seed: 7 });
    expect([...c.units.get("morality")!]).not.toEqual([...a.units.get("morality")!]);
  });

  it("gives an id the same split in every language, including ids some languages lack", () => {
    const all = ids(60);
    const ps = [...pairs("fairness", "en", all), ...pairs("fairness", "fr", all.filter((_, i) => i % 3 !== 0)), ...pairs("fairness", "zh", all.slice(10))];
    const r = splitByItem(ps, { valFraction: 0.25 });
    const byId = new Map<string, string>();
    for (const p of r.pairs) {
      const prev = byId.get(p.id);
      if (prev) expect(p.split).toBe(prev);
      byId.set(p.id, p.split);
    }
    expect(r.pairs).toHaveLength(ps.length);
    expect(r.counts.fairness).toEqual({ train: 36, val: 12, test: 12, unused: 0 });
    // The union of ids, not one language's, is what was split.
    expect(r.units.get("fairness")!.size).toBe(60);
  });

  it("splits concepts independently but with the same rule", () => {
    const r = splitByItem([...pairs("a", "en", ids(10)), ...pairs("b", "en", ids(20))]);
    expect(r.counts).toEqual({ a: { train: 8, val: 0, test: 2, unused: 0 }, b: { train: 16, val: 0, test: 4, unused: 0 } });
    // same ids, same sorted input and seed: same permutation prefix rule, so a's test ids are b's shuffle of 10 ids
    expect(splitIds(ids(10)).get("item0")).toBe(r.units.get("a")!.get("item0"));
  });

  it("validation is carved from train; the test set does not change", () => {
    const ps = pairs("m", "en", ids(200));
    const noVal = splitByItem(ps);
    const withVal = splitByItem(ps, { valFraction: 0.1 });
    expect(withVal.counts.m).toEqual({ train: 144, val: 16, test: 40, unused: 0 });
    for (const p of noVal.pairs) {
      const s = withVal.units.get("m")!.get(p.id);
      if (p.split === "test") expect(s).toBe("test");
      else expect(["train", "val"]).toContain(s);
    }
  });

  it("trainLimit reproduces the paper's training-size ablation (same test set, fewer train units)", () => {
    const ps = pairs("m", "en", ids(100));
    const full = splitByItem(ps);
    const half = splitByItem(ps, { trainLimit: 0.4 });
    expect(half.counts.m).toEqual({ train: 40, val: 0, test: 20, unused: 40 });
    expect(half.pairs).toHaveLength(60);
    const abs = splitByItem(ps, { trainLimit: 500 }); // capped at the train block
    expect(abs.counts.m.train).toBe(80);
    for (const p of half.pairs) if (p.split === "test") expect(full.units.get("m")!.get(p.id)).toBe("test");
  });

  it("keeps a group together and checks groups agree across languages", () => {
    const g = (id: string): string => `q${Math.floor(Number(id.slice(4)) / 4)}`;
    const ps = [...pairs("t", "en", ids(80), g), ...pairs("t", "es", ids(80), g)];
    const r = splitByItem(ps);
    expect(r.counts.t).toEqual({ train: 16, val: 0, test: 4, unused: 0 });
    const splitOfGroup = new Map<string, string>();
    for (const p of r.pairs) {
      const s = splitOfGroup.get(p.group!);
      if (s) expect(p.split).toBe(s);
      splitOfGroup.set(p.group!, p.split);
    }
    const clash = [...pairs("t", "en", ["x"], () => "g1"), ...pairs("t", "fr", ["x"], () => "g2")];
    expect(() => splitByItem(clash)).toThrow(/pair id "x" \(t\) has group "g1" in one language and "g2" in fr/);
  });

  it("rejects bad fractions", () => {
    expect(() => splitIds(["a"], { trainFraction: 1.5 })).toThrow(/trainFraction/);
    expect(() => splitIds(["a"], { valFraction: 1 })).toThrow(/valFraction/);
    expect(() => splitIds(["a"], { trainLimit: 0 })).toThrow(/trainLimit/);
  });
});

describe("paperSplit", () => {
  it("shuffles each language's list with a fresh seed-1 stream: first floor(0.8N) train, last N-floor(0.8N) test", () => {
    const en = pairs("m", "en", ids(11));
    const r = paperSplit(en);
    expect(r.counts["m/en"]).toEqual({ train: 8, val: 0, test: 3, unused: 0 });
    // Same rule by hand: the same Fisher-Yates with new Rng(1) on the list in input order.
    const order = shuffleInPlace([...en], new Rng(1));
    const expected = new Map(order.map((p, i) => [p.id, i < 8 ? "train" : "test"]));
    for (const p of r.pairs) expect(p.split).toBe(expected.get(p.id));
    expect(r.pairs.map((p) => p.id)).toEqual(en.map((p) => p.id)); // input order kept
  });

  it("is per language, so splits of different-length languages are not parallel (unlike splitByItem)", () => {
    const r = paperSplit([...pairs("m", "en", ids(40)), ...pairs("m", "fr", ids(39))]);
    expect(r.counts["m/en"]).toEqual({ train: 32, val: 0, test: 8, unused: 0 });
    expect(r.counts["m/fr"]).toEqual({ train: 31, val: 0, test: 8, unused: 0 });
    const en = r.units.get("m/en")!;
    const fr = r.units.get("m/fr")!;
    const differ = [...fr].filter(([id, s]) => en.get(id) !== s).length;
    expect(differ).toBeGreaterThan(0);
    expect(paperSplit([...pairs("m", "en", ids(40))], 1).units.get("m/en")).toEqual(en);
  });
});

describe("captureTexts", () => {
  const sp: SplitPair[] = [
    { id: "1", concept: "c", lang: "en", pos: "same", neg: "b", split: "train" },
    { id: "2", concept: "c", lang: "en", pos: "same", neg: "d", split: "test" },
  ];
  it("emits pos then neg per pair, templated, with ids, split and template id; no dedupe", () => {
    expect(captureTexts(sp, LLAMA2_CHAT_TEMPLATE)).toEqual([
      { itemId: "1", concept: "c", lang: "en", side: "pos", split: "train", template: "llama2-chat", text: "[INST] same [/INST] " },
      { itemId: "1", concept: "c", lang: "en", side: "neg", split: "train", template: "llama2-chat", text: "[INST] b [/INST] " },
      { itemId: "2", concept: "c", lang: "en", side: "pos", split: "test", template: "llama2-chat", text: "[INST] same [/INST] " },
      { itemId: "2", concept: "c", lang: "en", side: "neg", split: "test", template: "llama2-chat", text: "[INST] d [/INST] " },
    ]);
  });
  it("filters by split and side", () => {
    const t = captureTexts(sp, RAW_TEMPLATE, { splits: ["test"], sides: ["neg"] });
    expect(t.map((x) => [x.itemId, x.side, x.text])).toEqual([["2", "neg", "d"]]);
  });
  it("works end to end from splitByItem", () => {
    const r = splitByItem([...pairs("c", "en", ids(10)), ...pairs("c", "fr", ids(10))], { seed: 3 });
    const texts = captureTexts(r.pairs, QWEN_CHAT_TEMPLATE);
    expect(texts).toHaveLength(40);
    for (let i = 0; i < texts.length; i += 2) {
      expect([texts[i].side, texts[i + 1].side]).toEqual(["pos", "neg"]);
      expect(texts[i].itemId).toBe(texts[i + 1].itemId);
      expect(texts[i].split).toBe(r.units.get("c")!.get(texts[i].itemId));
    }
  });
});
