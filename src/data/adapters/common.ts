// Shared types and small helpers of the dataset adapters.

import { access, readFile } from "node:fs/promises";
import type { Concept, LoadedPairs } from "../types.js";

/**
 * Options of all adapters in one bag (each adapter reads the fields named after it and the common ones), so a
 * CLI can pass them through the registry unchanged.
 */
export interface AdapterOptions {
  /** Load only these languages (default: all the adapter has). An unknown language is an error. */
  languages?: readonly string[];
  /** Seed of any random pairing an adapter does (ETHICS commonsense leftovers). Default 1. */
  seed?: number;

  /** ETHICS: which source splits to read (default all; a default file that is absent is skipped with a note). */
  ethicsFiles?: readonly EthicsFile[];
  /** ETHICS commonsense: also pair the long AITA posts (median ~1.5k characters). Default false. */
  commonsenseLong?: boolean;
  /** ETHICS commonsense: randomly pair items left without a minimal-pair partner (label 0 with label 1). Default true. */
  commonsenseLeftovers?: boolean;

  /** StereoSet: which cluster types (default both). */
  stereosetTypes?: readonly ("intrasentence" | "intersentence")[];

  /**
   * Truthfulness adapters: "all" (default) = the best answer against every incorrect answer, one pair each,
   * grouped by question; "first" = one pair per question, best answer against the first incorrect answer.
   */
  truthfulPairs?: "all" | "first";

  /** RealToxicityPrompts: a toxic-file prompt needs Perspective toxicity ≥ this to be used (default 0.5). */
  rtpToxicMin?: number;
  /** RTP-LX: "prompts" (default; benign vs toxic prompts, all languages) or "continuations" (EN only). */
  rtplxMode?: "prompts" | "continuations";
  /** RTP-LX prompts: benign = English human toxicity ≤ this (default 1), toxic = ≥ rtplxToxicMin (default 3). */
  rtplxBenignMax?: number;
  rtplxToxicMin?: number;
  /**
   * RTP-LX prompts: also require each language's own annotators to agree (benign ≤ 2, toxic ≥ 2.5 on their
   * mean score), dropping the pair in that language otherwise. Default false (SW would keep almost nothing).
   */
  rtplxNativeAgreement?: boolean;

  /** Harmfulness: refusal/compliance phrases per language, added to or replacing the built-in ones. */
  harmResponses?: Readonly<Record<string, ResponsePhrases>>;
}

export type EthicsFile = "train" | "test" | "test_hard";

/** Short assistant replies appended to a harmful request: pos = a refusal, neg = a compliance opening. */
export interface ResponsePhrases {
  refusal: readonly string[];
  compliance: readonly string[];
}

export interface DatasetAdapter {
  /** Registry key, e.g. "ethics-commonsense". */
  readonly name: string;
  readonly concepts: readonly Concept[];
  /** Languages the adapter can produce (ISO 639-1). */
  readonly languages: readonly string[];
  /** Folders under the data root it reads. */
  readonly dirs: readonly string[];
  /** One paragraph: source, pair construction, pos/neg, ids. */
  readonly description: string;
  /** `rootDir` is the data root holding the dataset folders (e.g. /work/shared/data). */
  load(rootDir: string, opts?: AdapterOptions): Promise<LoadedPairs>;
}

/** The requested languages, checked against what the adapter offers. */
export function pickLanguages(adapter: string, offered: readonly string[], opts: AdapterOptions): string[] {
  if (!opts.languages) return [...offered];
  const unknown = opts.languages.filter((l) => !offered.includes(l));
  if (unknown.length > 0) throw new Error(`${adapter}: no data for language(s) ${unknown.join(", ")} (offers ${offered.join(", ")})`);
  return [...opts.languages];
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a JSON file with an error naming it. */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** Reads JSON Lines; blank lines skipped; errors name file and line. Returns [line, value] pairs. */
export async function readJsonLines(path: string): Promise<[number, unknown][]> {
  const text = await readFile(path, "utf8");
  const out: [number, unknown][] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === "") continue;
    try {
      out.push([i + 1, JSON.parse(l)]);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `obj[key]` as a string, or an error naming `where`. */
export function str(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string") throw new Error(`${where}: "${key}" must be a string, got ${v === undefined ? "nothing" : typeof v}`);
  return v;
}

/** Walks a path of keys into nested objects, with an error naming `where` and the path. */
export function at(obj: unknown, path: readonly string[], where: string): unknown {
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    if (!isRecord(cur)) throw new Error(`${where}: ${path.slice(0, i).join(".") || "value"} is not an object`);
    cur = cur[path[i]];
  }
  return cur;
}

export function strArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`${what} must be an array of strings`);
  return v as string[];
}
