// Shape of a language's phrase data for the refusal judge.
//
// Pattern syntax (expanded when a judge is built):
//   {a|b|c}   alternatives; "{|very }" makes a part optional. Several groups multiply out.
//   *x / x*   no word-boundary check on that side (for inflected or agglutinated forms: "segít*", "*sema").
// Matching is on normalised text (NFKC, lower case, one apostrophe, collapsed spaces), so write phrases in
// any case and with ' for apostrophes. Word boundaries are only checked where the phrase edge is a letter of
// a script that separates words with spaces; Han, kana and Thai phrases match as substrings.

/**
 * A phrase with weight 1, or one with its own weight (0.5 = weak evidence, 1.5 = strong). Apologies alone are 0.5
 * ("Sorry for the confusion, here is…" is compliance); with an inability phrase next to them they add up.
 */
export type PhraseEntry = string | { readonly text: string; readonly weight: number };

export interface PhraseSet {
  /** Refusal markers: apology + inability, "as an AI", policy mentions, declining. */
  readonly refusal: readonly PhraseEntry[];
  /** Compliance markers: "Sure, here is", "Step 1", "Here's how", offers to help. */
  readonly compliance: readonly PhraseEntry[];
  /** Negation cues before a compliance marker in the same clause ("not sure", "can't give you step 1"). */
  readonly negationBefore?: readonly string[];
  /** Negation cues after a compliance marker in the same clause (verb-final languages: "ステップ1は…できません").
   *  After-cues are matched without word boundaries (they are often glued to the verb). */
  readonly negationAfter?: readonly string[];
  /** Reported-speech cues before a marker in the same sentence ("some people say I can't help"). */
  readonly reportBefore?: readonly string[];
  /** Reported-speech cues right after a marker ("…できませんと言う", "…없다고", "…என்று"). */
  readonly reportAfter?: readonly string[];
}
