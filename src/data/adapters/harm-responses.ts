// The harmless side of the harmfulness adapters.
//
// AdvBench, MultiJail and XSafety hold harmful requests only; none has a benign request in the same language
// to pair with, and no parallel harmless-instruction set is in the shared data. So each pair keeps the request
// fixed and contrasts the reply: pos = request + " " + a refusal, neg = request + " " + a compliance opening
// (AdvBench uses its own "Sure, here is …" target). This is a minimal pair in the request, parallel across
// languages, and the value-aligned side is the harmless one. Caveat: the reply phrases are fixed per language,
// so the direction also carries "refusal vs compliance wording" (a refusal direction); two phrasings per side,
// chosen by a hash of the item id (the same choice in every language), keep it from being one string.
// Phrases exist for the paper languages the datasets cover; others need `harmResponses`.
// Because the read position (last token) falls in the reply phrase, these pairs measure refusal wording, not the
// harmfulness of the request; harm-requests.ts builds pairs that vary the request instead (harmful vs harmless).

import type { AdapterOptions, ResponsePhrases } from "./common.js";

export const HARM_RESPONSES: Readonly<Record<string, ResponsePhrases>> = {
  en: {
    refusal: ["I'm sorry, but I can't help with that.", "I won't help with this request because it could cause harm."],
    compliance: ["Sure, here is how to do it:", "Of course! Here are the detailed steps:"],
  },
  zh: {
    refusal: ["抱歉，我无法帮助你做这件事。", "我不会协助这个请求，因为它可能造成伤害。"],
    compliance: ["当然，具体做法如下：", "没问题！以下是详细步骤："],
  },
  fr: {
    refusal: ["Désolé, mais je ne peux pas vous aider avec cela.", "Je ne vais pas répondre à cette demande, car elle pourrait causer du tort."],
    compliance: ["Bien sûr, voici comment faire :", "Avec plaisir ! Voici les étapes détaillées :"],
  },
  es: {
    refusal: ["Lo siento, pero no puedo ayudarte con eso.", "No voy a ayudar con esta petición porque podría causar daño."],
    compliance: ["Claro, así es como se hace:", "¡Por supuesto! Estos son los pasos detallados:"],
  },
  ja: {
    refusal: ["申し訳ありませんが、そのお手伝いはできません。", "危害につながる可能性があるため、この依頼にはお応えできません。"],
    compliance: ["もちろんです。やり方は次のとおりです：", "承知しました！詳しい手順は以下のとおりです："],
  },
  ko: {
    refusal: ["죄송하지만 그 요청은 도와드릴 수 없습니다.", "해를 끼칠 수 있는 요청이므로 도와드리지 않겠습니다."],
    compliance: ["물론이죠, 방법은 다음과 같습니다:", "좋아요! 자세한 단계는 다음과 같습니다:"],
  },
  vi: {
    refusal: ["Xin lỗi, tôi không thể giúp bạn việc đó.", "Tôi sẽ không hỗ trợ yêu cầu này vì nó có thể gây hại."],
    compliance: ["Được thôi, đây là cách thực hiện:", "Tất nhiên! Dưới đây là các bước chi tiết:"],
  },
  sw: {
    refusal: ["Samahani, siwezi kukusaidia na hilo.", "Sitasaidia ombi hili kwa sababu linaweza kusababisha madhara."],
    compliance: ["Sawa, hivi ndivyo unavyoweza kufanya:", "Bila shaka! Hizi ndizo hatua kwa undani:"],
  },
};

/** The phrases for `lang` (options first), or null. */
export function responsePhrases(lang: string, opts: AdapterOptions): ResponsePhrases | null {
  const p = opts.harmResponses?.[lang] ?? HARM_RESPONSES[lang];
  if (!p) return null;
  if (p.refusal.length === 0 || p.compliance.length === 0) throw new Error(`harmResponses.${lang}: needs at least one refusal and one compliance phrase`);
  return p;
}

/** Languages with phrases among `offered` (the default language set of a harmfulness adapter). */
export function languagesWithPhrases(offered: readonly string[], opts: AdapterOptions): string[] {
  return offered.filter((l) => responsePhrases(l, opts) !== null);
}

/** Stable variant index from an item id (FNV-1a), so every language picks the same phrasing for an item. */
export function variantOf(id: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}

/** pos/neg texts for a request. `compliance` overrides the phrase (AdvBench's own target). */
export function harmPair(id: string, request: string, phrases: ResponsePhrases, compliance?: string): { pos: string; neg: string } {
  const refusal = phrases.refusal[variantOf(id, phrases.refusal.length)];
  const comply = compliance ?? phrases.compliance[variantOf(id, phrases.compliance.length)];
  return { pos: `${request} ${refusal}`, neg: `${request} ${comply}` };
}

/**
 * The languages to load: the requested ones (each must be in the dataset and have phrases), or by default every
 * dataset language that has phrases.
 */
export function harmLanguages(adapter: string, inDataset: readonly string[], opts: AdapterOptions): string[] {
  if (!opts.languages) return languagesWithPhrases(inDataset, opts);
  for (const l of opts.languages) {
    if (!inDataset.includes(l)) throw new Error(`${adapter}: no data for language ${l} (has ${inDataset.join(", ")})`);
    if (!responsePhrases(l, opts)) throw new Error(`${adapter}: no refusal/compliance phrases for ${l}; pass them in harmResponses`);
  }
  return [...opts.languages];
}
