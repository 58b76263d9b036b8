// Playground settings as URL query parameters: the same names in the page's address bar (shareable) and in the
// stream request, so a shared link reproduces the view.
import { ServeError } from "./errors.js";
import type { PlaygroundRequest, PlaygroundTarget } from "./playground.js";

export const MAX_TARGETS = 8;
export const MAX_PROMPT_CHARS = 4000;

function num(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ServeError("BAD_REQUEST", `${name} must be a number in ${min}..${max} (got '${raw}')`);
  return n;
}

function str(q: URLSearchParams, name: string, dflt?: string): string {
  const v = q.get(name) ?? dflt;
  if (v === undefined || v === "") throw new ServeError("BAD_REQUEST", `${name} is required`);
  if (v.length > MAX_PROMPT_CHARS) throw new ServeError("BAD_REQUEST", `${name} is longer than ${MAX_PROMPT_CHARS} characters`);
  return v;
}

/** `t=LANG:PROMPT`, repeated: the target-language prompts. */
export function parseTargets(q: URLSearchParams): PlaygroundTarget[] {
  const raw = q.getAll("t");
  if (raw.length === 0) throw new ServeError("BAD_REQUEST", "at least one target prompt (t=LANG:PROMPT) is required");
  if (raw.length > MAX_TARGETS) throw new ServeError("BAD_REQUEST", `at most ${MAX_TARGETS} target prompts`);
  return raw.map((t) => {
    const i = t.indexOf(":");
    const lang = i > 0 ? t.slice(0, i).trim() : "";
    const prompt = i > 0 ? t.slice(i + 1) : t;
    if (!/^[a-z]{2,3}$/.test(lang)) throw new ServeError("BAD_REQUEST", `target '${t.slice(0, 40)}' must be LANG:PROMPT with an ISO 639 code`);
    if (prompt.length === 0 || prompt.length > MAX_PROMPT_CHARS) throw new ServeError("BAD_REQUEST", `target prompt for ${lang} must have 1..${MAX_PROMPT_CHARS} characters`);
    return { lang, prompt };
  });
}

export function parsePlayground(q: URLSearchParams, maxTokensLimit: number): PlaygroundRequest {
  const scale = q.get("scale") ?? "none";
  if (scale !== "none" && scale !== "residual") throw new ServeError("BAD_REQUEST", "scale must be none or residual");
  return {
    concept: str(q, "concept"),
    source: str(q, "source"),
    layers: str(q, "layers"),
    coefficient: num(q, "coef", 4, -1000, 1000),
    scale,
    targets: parseTargets(q),
    random: q.get("random") === "1",
    maxTokens: num(q, "max", 24, 1, maxTokensLimit),
    pos: str(q, "pos", " good"),
    neg: str(q, "neg", " bad"),
  };
}
