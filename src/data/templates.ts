// Prompt templates applied to each side of a pair before capture. Every template has a stable id and its
// text (with one "{input}"), so activation files can record exactly what the model saw.

import { createHash } from "node:crypto";
import { ModelError } from "../util/errors.js";

export const INPUT_PLACEHOLDER = "{input}";

export interface PromptTemplate {
  /** Stable id: "llama2-chat", "qwen-chat", "bloomz", "raw", "custom:<sha1-8>", "gguf:<family>". */
  readonly id: string;
  /** The template text; contains "{input}" exactly once. */
  readonly text: string;
}

/** LLaMA-2-chat as in the paper: no system prompt, and the trailing space is part of the template. */
export const LLAMA2_CHAT_TEMPLATE: PromptTemplate = Object.freeze({ id: "llama2-chat", text: "[INST] {input} [/INST] " });
/** Qwen(1)-chat as in the paper: raw text (their code notes ChatML gave poor concept recognition). */
export const QWEN_CHAT_TEMPLATE: PromptTemplate = Object.freeze({ id: "qwen-chat", text: "{input}" });
/** BLOOMZ as in the paper: raw text. */
export const BLOOMZ_TEMPLATE: PromptTemplate = Object.freeze({ id: "bloomz", text: "{input}" });
/** No template. Same text as qwen-chat/bloomz; a separate id records that no paper template was meant. */
export const RAW_TEMPLATE: PromptTemplate = Object.freeze({ id: "raw", text: "{input}" });

export const BUILTIN_TEMPLATES: Readonly<Record<string, PromptTemplate>> = Object.freeze({
  [LLAMA2_CHAT_TEMPLATE.id]: LLAMA2_CHAT_TEMPLATE,
  [QWEN_CHAT_TEMPLATE.id]: QWEN_CHAT_TEMPLATE,
  [BLOOMZ_TEMPLATE.id]: BLOOMZ_TEMPLATE,
  [RAW_TEMPLATE.id]: RAW_TEMPLATE,
});

function countPlaceholders(text: string): number {
  return text.split(INPUT_PLACEHOLDER).length - 1;
}

/** Throws unless `text` contains "{input}" exactly once. */
export function validateTemplateText(text: string): void {
  const n = countPlaceholders(text);
  if (n !== 1) {
    throw new Error(`template must contain ${INPUT_PLACEHOLDER} exactly once, found ${n} time(s): ${JSON.stringify(text)}`);
  }
}

/** A user-written template; its id is "custom:" + the first 8 hex digits of the SHA-1 of its text. */
export function customTemplate(text: string): PromptTemplate {
  validateTemplateText(text);
  const h = createHash("sha1").update(text, "utf8").digest("hex").slice(0, 8);
  return Object.freeze({ id: `custom:${h}`, text });
}

/**
 * A template from a spec string: a built-in id, or a template text containing "{input}" (→ custom). Custom ids
 * cannot be resolved back (they are hashes), so pass the text.
 */
export function resolveTemplate(spec: string): PromptTemplate {
  const b = BUILTIN_TEMPLATES[spec];
  if (b) return b;
  if (spec.includes(INPUT_PLACEHOLDER)) return customTemplate(spec);
  throw new Error(
    `unknown template ${JSON.stringify(spec)}: use one of ${Object.keys(BUILTIN_TEMPLATES).join(", ")} or a text containing ${INPUT_PLACEHOLDER}`,
  );
}

/** The model facts templateFor reads (a loaded Model has them). */
export interface TemplateModel {
  arch: string;
  name: string;
  chatTemplate: string | null;
}

/**
 * The one resolution of a template spec (CLI --template, manifests): "auto" picks by the model's arch and name,
 * "gguf" renders the model's own chat template (ModelError when it has none), else a built-in name or a text
 * containing {input}.
 */
export function templateFor(spec: string, model: TemplateModel): PromptTemplate {
  if (spec === "auto") return templateForModel({ arch: model.arch, name: model.name });
  if (spec === "gguf") {
    if (!model.chatTemplate) throw new ModelError("template gguf: this model has no chat template in its metadata");
    return chatTemplate(model.chatTemplate);
  }
  return resolveTemplate(spec);
}

/** Puts `input` in place of "{input}" verbatim (no `$` pattern expansion, no trimming). */
export function applyTemplate(template: PromptTemplate, input: string): string {
  const at = template.text.indexOf(INPUT_PLACEHOLDER);
  if (at < 0 || template.text.indexOf(INPUT_PLACEHOLDER, at + 1) >= 0) validateTemplateText(template.text);
  return template.text.slice(0, at) + input + template.text.slice(at + INPUT_PLACEHOLDER.length);
}

/**
 * The paper's template for a model, from its GGUF architecture and/or name: LLaMA-2 chat → "llama2-chat",
 * Qwen → "qwen-chat", BLOOM/BLOOMZ → "bloomz", anything else → "raw". A suggestion; the caller may override.
 */
export function templateForModel(model: string | { arch?: string | null; name?: string | null }): PromptTemplate {
  const s = (typeof model === "string" ? model : `${model.arch ?? ""} ${model.name ?? ""}`).toLowerCase();
  if (/bloom/.test(s)) return BLOOMZ_TEMPLATE;
  if (/qwen/.test(s)) return QWEN_CHAT_TEMPLATE;
  if (/llama[\s_-]*(v\s*)?2/.test(s) && /chat/.test(s)) return LLAMA2_CHAT_TEMPLATE;
  return RAW_TEMPLATE;
}

// ---- The GGUF's own chat template -------------------------------------------------------------------------

/** Formats one user turn followed by the assistant generation prompt. Any Jinja renderer can implement this. */
export interface ChatTemplateRenderer {
  /** Short family name used in the template id ("gguf:<family>"). */
  readonly family: string;
  render(userMessage: string): string;
}

export type ChatTemplateFamily = "llama3" | "gemma" | "chatml" | "llama2";

/** Recognises the common chat-template families from the Jinja source; null when none matches. */
export function detectChatTemplateFamily(jinja: string): ChatTemplateFamily | null {
  if (jinja.includes("<|start_header_id|>") && jinja.includes("<|eot_id|>")) return "llama3";
  if (jinja.includes("<start_of_turn>") && jinja.includes("<end_of_turn>")) return "gemma";
  if (jinja.includes("<|im_start|>") && jinja.includes("<|im_end|>")) return "chatml";
  if (jinja.includes("[INST] ") && jinja.includes(" [/INST]")) return "llama2";
  return null;
}

// In Jinja sources a newline inside a string literal is usually written as the two characters "\n".
const NL = String.raw`(?:\\n|\n)`;

/**
 * A renderer for a detected family. It does not run Jinja: it reproduces what those templates print for a
 * single user message with add_generation_prompt, except that the message is inserted verbatim (templates that
 * `trim` it would strip surrounding spaces). BOS is never printed: llama.cpp's tokenizer adds it. Defaults
 * baked into the template are kept: ChatML's default system message (Qwen2/2.5) and Llama-3.1+'s system header
 * with "Cutting Knowledge Date" and the template's literal default date (llama.cpp may substitute today's date
 * via strftime_now; a fixed date keeps captures reproducible). Throws for unrecognised templates.
 */
export function builtinChatRenderer(jinja: string): ChatTemplateRenderer {
  const family = detectChatTemplateFamily(jinja);
  switch (family) {
    case "llama3": {
      let prefix = "";
      const cutoff = /Cutting Knowledge Date: ([^"'\\\n]+)/.exec(jinja);
      if (cutoff) {
        const date = /date_string\s*=\s*["']([^"']+)["']/.exec(jinja)?.[1] ?? "26 Jul 2024";
        prefix =
          "<|start_header_id|>system<|end_header_id|>\n\n" +
          `Cutting Knowledge Date: ${cutoff[1]}\nToday Date: ${date}\n\n<|eot_id|>`;
      }
      return {
        family,
        render: (m) => `${prefix}<|start_header_id|>user<|end_header_id|>\n\n${m}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
      };
    }
    case "gemma":
      return { family, render: (m) => `<start_of_turn>user\n${m}<end_of_turn>\n<start_of_turn>model\n` };
    case "chatml": {
      const sys = new RegExp(String.raw`<\|im_start\|>system${NL}([^{}'"+<\\]+)<\|im_end\|>`).exec(jinja);
      const prefix = sys ? `<|im_start|>system\n${sys[1]}<|im_end|>\n` : "";
      return { family, render: (m) => `${prefix}<|im_start|>user\n${m}<|im_end|>\n<|im_start|>assistant\n` };
    }
    case "llama2":
      return { family, render: (m) => `[INST] ${m} [/INST]` };
    default: {
      const head = jinja.length > 120 ? `${jinja.slice(0, 120)}…` : jinja;
      throw new Error(
        `unrecognised chat template (not ChatML, Llama-2 [INST], Llama-3 header or Gemma turn style): ${JSON.stringify(head)}; ` +
          "pass a ChatTemplateRenderer that renders it, or use a built-in/custom template",
      );
    }
  }
}

/**
 * A PromptTemplate from a chat renderer (yours, or `builtinChatRenderer(ggufJinja)`), id "gguf:<family>". The
 * renderer must put the message verbatim and once; this is checked with probe messages.
 */
export function chatTemplate(source: string | ChatTemplateRenderer): PromptTemplate {
  const r = typeof source === "string" ? builtinChatRenderer(source) : source;
  if (!/^[A-Za-z0-9._-]+$/.test(r.family)) throw new Error(`chat renderer family must be a plain name, got ${JSON.stringify(r.family)}`);
  const text = r.render(INPUT_PLACEHOLDER);
  validateTemplateText(text);
  const t: PromptTemplate = Object.freeze({ id: `gguf:${r.family}`, text });
  for (const probe of ["x", " a $& b {input2} \n"]) {
    if (r.render(probe) !== applyTemplate(t, probe)) {
      throw new Error(`chat renderer "${r.family}" does not insert the message verbatim; it cannot be used as a text template`);
    }
  }
  return t;
}

/** id → text for a set of templates (for provenance records). */
export function templateRecord(templates: readonly PromptTemplate[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of templates) {
    if (out[t.id] !== undefined && out[t.id] !== t.text) throw new Error(`two templates share id ${t.id} with different texts`);
    out[t.id] = t.text;
  }
  return out;
}
