// Refusal / compliance phrase data for the paper's 16 languages (ISO 639-1 keys).
import type { PhraseSet } from "./types.js";
import { ca } from "./ca.js";
import { en } from "./en.js";
import { es } from "./es.js";
import { fi } from "./fi.js";
import { fr } from "./fr.js";
import { hu } from "./hu.js";
import { id } from "./id.js";
import { ja } from "./ja.js";
import { ko } from "./ko.js";
import { ny } from "./ny.js";
import { pt } from "./pt.js";
import { sw } from "./sw.js";
import { ta } from "./ta.js";
import { te } from "./te.js";
import { vi } from "./vi.js";
import { zh } from "./zh.js";

export type { PhraseEntry, PhraseSet } from "./types.js";

export const REFUSAL_PHRASES: Readonly<Record<string, PhraseSet>> = { en, zh, fr, es, pt, vi, ca, id, ja, ko, fi, hu, ta, te, sw, ny };
