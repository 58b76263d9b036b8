// Plain JSONL of pairs: one {"id","concept","lang","pos","neg","group"?,"meta"?} object per line.

import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { assertUniqueIds } from "./report.js";
import type { ContrastPair } from "./types.js";

const REQUIRED = ["id", "concept", "lang", "pos", "neg"] as const;
const KNOWN = new Set<string>([...REQUIRED, "group", "meta"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates one decoded line; `where` prefixes error messages ("file:line"). */
export function pairFromJson(v: unknown, where: string): ContrastPair {
  if (!isRecord(v)) throw new Error(`${where}: expected a JSON object, got ${Array.isArray(v) ? "array" : v === null ? "null" : typeof v}`);
  for (const k of REQUIRED) {
    if (!(k in v)) throw new Error(`${where}: missing "${k}"`);
    if (typeof v[k] !== "string") throw new Error(`${where}: "${k}" must be a string, got ${typeof v[k]}`);
  }
  for (const k of Object.keys(v)) if (!KNOWN.has(k)) throw new Error(`${where}: unknown field "${k}"`);
  const pair: ContrastPair = {
    id: v.id as string,
    concept: v.concept as string,
    lang: v.lang as string,
    pos: v.pos as string,
    neg: v.neg as string,
  };
  if (v.id === "") throw new Error(`${where}: "id" must not be empty`);
  if (v.group !== undefined) {
    if (typeof v.group !== "string") throw new Error(`${where}: "group" must be a string`);
    pair.group = v.group;
  }
  if (v.meta !== undefined) {
    if (!isRecord(v.meta)) throw new Error(`${where}: "meta" must be an object`);
    const meta: Record<string, string | number | boolean> = {};
    for (const [k, x] of Object.entries(v.meta)) {
      if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") {
        throw new Error(`${where}: meta.${k} must be a string, number or boolean`);
      }
      meta[k] = x;
    }
    pair.meta = meta;
  }
  return pair;
}

/** Parses JSONL text; blank lines are skipped; errors name the 1-based line. Ids must be unique per concept/lang. */
export function parsePairsJsonl(text: string, file = "<jsonl>"): ContrastPair[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: ContrastPair[] = [];
  const seen = new Map<string, number>();
  const lines = s.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    if (raw.trim() === "") continue;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    const p = pairFromJson(v, where);
    const key = `${p.concept}\u0000${p.lang}\u0000${p.id}`;
    const prev = seen.get(key);
    if (prev !== undefined) throw new Error(`${where}: duplicate id "${p.id}" (${p.concept}/${p.lang}), first on line ${prev}`);
    seen.set(key, i + 1);
    out.push(p);
  }
  return out;
}

export async function readPairsJsonl(path: string): Promise<ContrastPair[]> {
  return parsePairsJsonl(await readFile(path, "utf8"), path);
}

/** One line per pair, keys in a fixed order, newline-terminated. */
export function formatPairsJsonl(pairs: readonly ContrastPair[]): string {
  assertUniqueIds(pairs);
  let out = "";
  for (const p of pairs) {
    const o: Record<string, unknown> = { id: p.id, concept: p.concept, lang: p.lang, pos: p.pos, neg: p.neg };
    if (p.group !== undefined) o.group = p.group;
    if (p.meta !== undefined) o.meta = p.meta;
    out += JSON.stringify(o) + "\n";
  }
  return out;
}

/** Writes to a temporary file in the same folder, then renames it over `path`, so readers never see half a file. */
export async function writePairsJsonl(path: string, pairs: readonly ContrastPair[]): Promise<void> {
  const text = formatPairsJsonl(pairs);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, text, "utf8");
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
