// `valuelens demo`: the whole method end to end with nothing downloaded. Two synthetic "model families" (qwen2
// tokenizer, random weights) carry planted concept directions with different cross-lingual structure; a small
// multilingual contrastive data set (lexicon.ts) goes through capture → extract → recognition → similarity →
// transfer → correlation → control, and the report shows whether the planted structure is recovered.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { splitByItem } from "../data/splits.js";
import { captureTexts } from "../data/pairs.js";
import { RAW_TEMPLATE } from "../data/templates.js";
import type { ContrastPair } from "../data/types.js";
import { loadModel, type Model } from "../engine/model.js";
import { packageRoot } from "../engine/native.js";
import { plantedDirections, synthModel, type PlantedConceptSpec } from "../gguf/index.js";
import { analyze, type AnalysisResults } from "../pipeline/analyze.js";
import { captureToStore } from "../pipeline/capture.js";
import { extractToStore } from "../pipeline/extract.js";
import { buildReport, controlFromSummary, mergeControl, type ControlCurves, type ReportInput } from "../report/index.js";
import { control } from "../steer/control.js";
import type { ControlPrompt } from "../steer/prompts.js";
import { DEMO_CONCEPTS, DEMO_LANGS, FRAMES, JOINER, WORDS, type DemoConcept, type DemoLang } from "./lexicon.js";
import { writeFileAtomic } from "../util/output.js";

export interface DemoFamily {
  name: string;
  description: string;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  seed: number;
  /** Planted angle (degrees) of each language's direction to the concept's shared base direction. */
  angleDeg: Readonly<Record<DemoLang, number>>;
  /** Planted strength per language (embedding offset ±alpha·direction on the evaluative words' final tokens). */
  alpha: Readonly<Record<DemoLang, number>>;
}

/** Family A: one shared direction per concept. Family B: languages at large angles, low-resource ones far off. */
export const DEMO_FAMILIES: readonly DemoFamily[] = [
  {
    name: "lens-a",
    description: "family A: every language within 12° of one shared direction per concept (high cross-lingual consistency)",
    nEmbd: 128,
    nLayer: 6,
    nHead: 4,
    nHeadKv: 2,
    nFf: 256,
    seed: 11,
    angleDeg: { en: 0, fr: 6, es: 8, zh: 10, sw: 12 },
    alpha: { en: 24, fr: 24, es: 24, zh: 24, sw: 24 },
  },
  {
    name: "lens-b",
    description: "family B: languages at large angles to the shared direction, the lower-resourced ones far off (zh 70°, sw 88°) and weaker",
    nEmbd: 96,
    nLayer: 5,
    nHead: 4,
    nHeadKv: 2,
    nFf: 192,
    seed: 23,
    angleDeg: { en: 0, fr: 35, es: 40, zh: 70, sw: 88 },
    alpha: { en: 24, fr: 22, es: 22, zh: 18, sw: 14 },
  },
];

export interface DemoOptions {
  /** Output folder (models, activation and vector files, results.json, report.html, figures/). */
  out: string;
  /** Faster settings for CI: fewer items, resamples and control outputs. */
  small?: boolean;
  /** Contrastive pairs per (concept, language) (default 60; small 36). */
  items?: number;
  /** Bootstrap resamples of the recognition CIs (default 1000; small 200). */
  bootstrap?: number;
  /** Run the control experiment (default true). */
  control?: boolean;
  /** Override the qwen2 vocabulary file (default: the one llama.cpp ships, materialised by npm install). */
  vocab?: string;
  /** Progress lines (stage descriptions). */
  log?: (line: string) => void;
}

export interface DemoFamilySummary {
  name: string;
  description: string;
  model: string;
  /** Mean planted cosine between languages' directions (closed form cos θa · cos θb). */
  plantedSimilarity: number;
  /** Mean off-diagonal recovered cross-lingual similarity (the paper's aggregation). */
  recoveredSimilarity: number;
  /** Recovered similarity between English and every other language. */
  similarityToEnglish: Record<string, number>;
  /** Recognition accuracy on the test pairs at the layer chosen on the validation pairs (never the test-picked layer). */
  meanRecognition: number;
  minRecognition: number;
  /** The same at the layer picked on the test set itself (the paper's number): optimistic, shown for comparison. */
  meanRecognitionTestPicked: number;
  transferRate: number | null;
  /** Mean over targets of the slope of the target-language representation vs coefficient, steering with English. */
  controlSlopeFromEnglish: Record<string, number> | null;
}

export interface DemoResult {
  out: string;
  report: string;
  results: string;
  figures: number;
  seconds: number;
  timings: Record<string, number>;
  settings: { items: number; bootstrap: number; control: boolean; small: boolean };
  families: DemoFamilySummary[];
}

export const CONTROL_CONCEPT: DemoConcept = "morality";

/** The data set: `items` pairs per (concept, language), item i uses frame i mod 6 in every language (aligned ids). */
export function demoPairs(items: number): ContrastPair[] {
  const pairs: ContrastPair[] = [];
  for (const concept of DEMO_CONCEPTS) {
    for (const lang of DEMO_LANGS) {
      const frames = FRAMES[concept][lang];
      const { pos, neg } = WORDS[concept][lang];
      for (let i = 0; i < items; i++) {
        const k = Math.floor(i / frames.length);
        const frame = frames[i % frames.length];
        const p = pos[k % pos.length];
        // Walks the neg words at another stride so pos/neg combinations vary.
        const n = neg[(k + Math.floor(k / pos.length)) % neg.length];
        pairs.push({ id: `${concept.slice(0, 4)}-${i}`, concept, lang, pos: `${frame}${JOINER[lang]}${p}`, neg: `${frame}${JOINER[lang]}${n}` });
      }
    }
  }
  return pairs;
}

export type PlantedTokens = Map<DemoConcept, Map<DemoLang, { pos: number[]; neg: number[] }>>;

function qwenVocabPath(override?: string): string {
  const p = override ?? join(packageRoot(), "vendor", "llama.cpp", "models", "ggml-vocab-qwen2.gguf");
  if (!existsSync(p)) throw new Error(`the demo needs llama.cpp's qwen2 vocabulary at ${p} (npm install materialises vendor/llama.cpp)`);
  return p;
}

/**
 * The final token of every evaluative word as it ends a text, checked against the tokenizer: every text of the data
 * set must end in its word's final token, final tokens must be distinct across concepts, languages and sides, and
 * no frame may contain one. Throws with the offending words otherwise.
 */
export async function validateLexicon(vocab?: string): Promise<PlantedTokens> {
  const model = await loadModel(qwenVocabPath(vocab), { vocabOnly: true });
  try {
    const owner = new Map<number, string>();
    const out: PlantedTokens = new Map();
    const problems: string[] = [];
    for (const concept of DEMO_CONCEPTS) {
      const byLang = new Map<DemoLang, { pos: number[]; neg: number[] }>();
      for (const lang of DEMO_LANGS) {
        const cell = { pos: [] as number[], neg: [] as number[] };
        for (const side of ["pos", "neg"] as const) {
          for (const word of WORDS[concept][lang][side]) {
            const t = model.tokenize(`${JOINER[lang]}${word}`, { addSpecial: false });
            const last = t[t.length - 1];
            const who = `${concept}/${lang}/${side} '${word}'`;
            const prev = owner.get(last);
            if (prev !== undefined && !prev.startsWith(`${concept}/${lang}/${side} `)) problems.push(`${who} ends in the same token as ${prev}`);
            owner.set(last, who);
            if (!cell[side].includes(last)) cell[side].push(last);
            for (const frame of FRAMES[concept][lang]) {
              const full = model.tokenize(`${frame}${JOINER[lang]}${word}`, { addSpecial: false });
              if (full[full.length - 1] !== last) problems.push(`${who} does not end the text in its own final token after '${frame}'`);
            }
          }
        }
        byLang.set(lang, cell);
      }
      out.set(concept, byLang);
    }
    for (const concept of DEMO_CONCEPTS) {
      for (const lang of DEMO_LANGS) {
        for (const frame of FRAMES[concept][lang]) {
          for (const t of model.tokenize(frame, { addSpecial: false })) {
            if (owner.has(t)) problems.push(`frame '${frame}' contains the planted token of ${owner.get(t)}`);
          }
        }
      }
    }
    if (problems.length) throw new Error(`demo lexicon does not fit the qwen2 vocabulary:\n  ${problems.join("\n  ")}`);
    return out;
  } finally {
    model.dispose();
  }
}

/** Writes one family's model: per concept a base direction, per language its planted direction at the given angle. */
export async function writeFamilyModel(family: DemoFamily, tokens: PlantedTokens, path: string, vocab?: string): Promise<void> {
  const planted: PlantedConceptSpec[] = [];
  DEMO_CONCEPTS.forEach((concept, ci) => {
    const dirs = plantedDirections(family.nEmbd, family.seed * 1000 + ci, { angles: DEMO_LANGS.map((l) => (family.angleDeg[l] * Math.PI) / 180) });
    DEMO_LANGS.forEach((lang, k) => {
      const t = tokens.get(concept)!.get(lang)!;
      planted.push({ concept, lang, posTokens: t.pos, negTokens: t.neg, direction: dirs.directions[k], alpha: family.alpha[lang] });
    });
  });
  // Small block weights keep the planted directions dominant at every depth; unit norm weights keep the final
  // norm from bending them (as in the test suite's planted world).
  await synthModel({
    out: path,
    vocabGguf: qwenVocabPath(vocab),
    nEmbd: family.nEmbd,
    nLayer: family.nLayer,
    nHead: family.nHead,
    nHeadKv: family.nHeadKv,
    nFf: family.nFf,
    contextLength: 1024,
    seed: family.seed,
    blockScale: 0.1,
    normNoise: 0,
    weightType: "q8_0",
    name: family.name,
    planted,
  });
}

function plantedMeanSimilarity(f: DemoFamily): number {
  let s = 0;
  let n = 0;
  for (const a of DEMO_LANGS) {
    for (const b of DEMO_LANGS) {
      if (a === b) continue;
      s += Math.cos((f.angleDeg[a] * Math.PI) / 180) * Math.cos((f.angleDeg[b] * Math.PI) / 180);
      n++;
    }
  }
  return s / n;
}

function offDiagonalMean(m: { values: number[][] }): number {
  let s = 0;
  let n = 0;
  m.values.forEach((row, i) => row.forEach((v, j) => i !== j && Number.isFinite(v) && ((s += v), n++)));
  return n ? s / n : NaN;
}

/** Control prompts: the frames of the control concept, one id per frame index (parallel across languages). */
export function controlPrompts(perLang: number): ControlPrompt[] {
  return DEMO_LANGS.flatMap((lang) => FRAMES[CONTROL_CONCEPT][lang].slice(0, perLang).map((prompt, i) => ({ id: `frame-${i}`, lang, prompt })));
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const small = opts.small ?? false;
  const items = opts.items ?? (small ? 36 : 60);
  const bootstrap = opts.bootstrap ?? (small ? 200 : 1000);
  const withControl = opts.control ?? true;
  const log = opts.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const time = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await fn();
    } finally {
      timings[key] = (timings[key] ?? 0) + (performance.now() - s) / 1000;
    }
  };
  await mkdir(opts.out, { recursive: true });
  const tokens = await time("lexicon", () => validateLexicon(opts.vocab));
  const pairs = demoPairs(items);
  const split = splitByItem(pairs, { seed: 1, trainFraction: 0.8, valFraction: 0.1 });
  const texts = captureTexts(split.pairs, RAW_TEMPLATE);
  const counts = Object.values(split.counts).reduce((a, c) => ({ train: a.train + c.train, val: a.val + c.val, test: a.test + c.test }), { train: 0, val: 0, test: 0 });
  log(`data: ${DEMO_CONCEPTS.length} concepts × ${DEMO_LANGS.length} languages × ${items} pairs (${texts.length} texts)`);

  const models: Record<string, AnalysisResults> = {};
  const controls: ControlCurves[] = [];
  const families: DemoFamilySummary[] = [];
  for (const family of DEMO_FAMILIES) {
    const dir = join(opts.out, family.name);
    await mkdir(dir, { recursive: true });
    const modelPath = join(dir, `${family.name}.gguf`);
    log(`${family.name}: writing the planted model (${family.nEmbd} dims, ${family.nLayer} layers, qwen2 vocabulary)`);
    await time("model", () => writeFamilyModel(family, tokens, modelPath, opts.vocab));
    let model: Model | undefined;
    try {
      model = await loadModel(modelPath);
      const m = model;
      const session = await m.createSession({ contextSize: 4096, batchSize: 2048, maxSequences: 64 });
      const acts = join(dir, "activations.arrow");
      const vecs = join(dir, "vectors.arrow");
      try {
        log(`${family.name}: capture (every layer, last token)`);
        await time("capture", () =>
          captureToStore({
            model: m,
            session,
            texts,
            templates: [RAW_TEMPLATE],
            layers: Array.from({ length: m.nLayer }, (_, i) => i + 1),
            out: acts,
            // One engine call per layer group: the store syncs after every append, a few large ones are cheaper.
            chunkTexts: 4096,
            split: { seed: 1, by: "item", ...counts },
            extra: { demo: family.name, plantedAngleDeg: family.angleDeg, plantedAlpha: family.alpha, itemsPerCell: items },
          }),
        );
      } finally {
        session.dispose();
      }
      log(`${family.name}: extract + analyze`);
      await time("extract", () => extractToStore({ activations: acts, out: vecs, methods: ["mean_diff"] }));
      const r = await time("analyze", () => analyze({ activations: acts, vectors: vecs, bootstrap: { samples: bootstrap }, highResource: ["en"] }));
      models[family.name] = r;
      let slopes: Record<string, number> | null = null;
      if (withControl) {
        log(`${family.name}: control (steer with ${CONTROL_CONCEPT} vectors, generate, score)`);
        const mid = Math.ceil(m.nLayer / 2);
        const res = await time("control", () =>
          control({
            model: m,
            sessionOptions: { contextSize: 2048, batchSize: 512, maxSequences: 32 },
            vectors: vecs,
            concept: CONTROL_CONCEPT,
            sources: small ? ["en"] : ["en", "sw"],
            targets: [...DEMO_LANGS],
            prompts: controlPrompts(small ? 3 : 4),
            // Planted directions saturate the output near 0.25 residual norms: a fine grid around 0 shows the onset.
            coefficients: small ? [-0.4, -0.1, 0, 0.1, 0.4] : [-0.4, -0.2, -0.1, 0, 0.1, 0.2, 0.4],
            layers: [mid],
            scale: "residual",
            activations: acts,
            generation: { maxTokens: small ? 4 : 6 },
            languageCandidates: [...DEMO_LANGS],
            bootstrap: { samples: small ? 100 : 400 },
            out: join(dir, "control"),
          }),
        );
        controls.push(controlFromSummary(res.summary, { model: family.name, metrics: ["representation", "fluency", "languagePreserved"] }));
        slopes = {};
        for (const c of res.summary.curves) if (c.source === "en") slopes[c.target] = c.slope.representation?.value ?? NaN;
      }
      // The headline is held out: the layer is chosen on validation pairs, then scored on the test pairs.
      const cells = r.concepts.flatMap((c) => r.langs.map((l) => r.recognition[c][l]));
      const rec = cells.map((x) => {
        if (!x.heldOut) throw new Error("demo: no validation pairs to choose the layer on");
        return x.heldOut.accuracy;
      });
      const picked = cells.map((x) => x.oracle.accuracy);
      const agg = r.similarity.aggregate;
      const en = agg.langs.indexOf("en");
      families.push({
        name: family.name,
        description: family.description,
        model: modelPath,
        plantedSimilarity: plantedMeanSimilarity(family),
        recoveredSimilarity: offDiagonalMean(agg),
        similarityToEnglish: Object.fromEntries(agg.langs.filter((l) => l !== "en").map((l) => [l, agg.values[en][agg.langs.indexOf(l)]])),
        meanRecognition: rec.reduce((a, b) => a + b, 0) / rec.length,
        minRecognition: Math.min(...rec),
        meanRecognitionTestPicked: picked.reduce((a, b) => a + b, 0) / picked.length,
        transferRate: r.transfer ? r.transfer.rate.mean : null,
        controlSlopeFromEnglish: slopes,
      });
    } finally {
      model?.dispose();
    }
  }

  const notes = [
    "Synthetic demonstration: both models have random weights and the qwen2 tokenizer; concept directions are planted in the embeddings of the final tokens of the evaluative words (pos: +alpha·d, neg: −alpha·d), so the ground truth is known.",
    ...DEMO_FAMILIES.map((f) => `${f.name} — ${f.description}; planted angles ${DEMO_LANGS.map((l) => `${l} ${f.angleDeg[l]}°`).join(", ")}; planted mean cross-lingual cosine ${plantedMeanSimilarity(f).toFixed(3)}.`),
    `Data: ${DEMO_CONCEPTS.join(", ")} in ${DEMO_LANGS.join(", ")}; ${items} pairs per concept and language built from translated sentence frames and evaluative words (src/demo/lexicon.ts); split by item (seed 1, 80% train+val with 10% of it validation, 20% test).`,
    ...(withControl
      ? [`Control: steering with the ${CONTROL_CONCEPT} vectors at layer ⌈L/2⌉, coefficients in units of that layer's median residual norm; greedy generation; the primary metric is the output's projection on the target language's own ${CONTROL_CONCEPT} vector.`]
      : []),
  ];
  const input: ReportInput = { title: "valuelens demo: planted cross-lingual value concepts", notes, models };
  const ctl = mergeControl(controls);
  if (ctl) input.control = ctl;
  const resultsPath = join(opts.out, "results.json");
  await writeFileAtomic(resultsPath, JSON.stringify(input));
  log("report");
  const report = await time("report", () => buildReport(input, { out: join(opts.out, "report.html"), figuresDir: join(opts.out, "figures") }));
  return {
    out: opts.out,
    report: report.html,
    results: resultsPath,
    figures: report.figures.length,
    seconds: (performance.now() - t0) / 1000,
    timings,
    settings: { items, bootstrap, control: withControl, small },
    families,
  };
}
