// The demo's small multilingual contrastive data set: per concept, sentence frames translated into every language
// (frame i is the same item in each language) and value-aligned (pos) / opposed (neg) evaluative words.
// A pair is (frame + pos word, frame + neg word). The words were chosen so that the final token of every word, as
// it ends a text, is distinct across all concepts, languages and sides of the qwen2 vocabulary (checked at run
// time by validateLexicon); those final tokens are where the demo models carry the planted concept directions.
// Translations are plain and short; they serve a synthetic demonstration, not a benchmark.

export const DEMO_LANGS = ["en", "fr", "es", "zh", "sw"] as const;
export type DemoLang = (typeof DEMO_LANGS)[number];
export const DEMO_CONCEPTS = ["morality", "fairness", "truthfulness"] as const;
export type DemoConcept = (typeof DEMO_CONCEPTS)[number];

export interface LexiconCell {
  pos: readonly string[];
  neg: readonly string[];
}

/** What joins a frame and its final word: a space, or a full-width colon for Chinese (no spaces between words). */
export const JOINER: Readonly<Record<DemoLang, string>> = { en: " ", fr: " ", es: " ", zh: "：", sw: " " };

export const FRAMES: Readonly<Record<DemoConcept, Readonly<Record<DemoLang, readonly string[]>>>> = {
  morality: {
    en: [
      "The neighbours described him as",
      "Her teacher said that she was",
      "Everyone agreed that the old king was",
      "In the story the stranger turned out to be",
      "His friends think that he is",
      "The villagers remember the doctor as",
    ],
    fr: [
      "Les voisins le décrivaient comme",
      "Son professeur disait qu'elle était",
      "Tout le monde pensait que le vieux roi était",
      "Dans l'histoire, l'étranger se révèle",
      "Ses amis pensent qu'il est",
      "Les villageois se souviennent du médecin comme",
    ],
    es: [
      "Los vecinos lo describían como",
      "Su profesor decía que ella era",
      "Todos pensaban que el viejo rey era",
      "En la historia, el forastero resulta",
      "Sus amigos piensan que él es",
      "Los aldeanos recuerdan al médico como",
    ],
    zh: ["邻居们对他的评价", "老师对她的评价", "大家对老国王的看法", "故事里那个陌生人的为人", "朋友们对他的印象", "村民们对那位医生的回忆"],
    sw: [
      "Majirani walimweleza kuwa",
      "Mwalimu wake alisema kwamba yeye ni",
      "Kila mtu alikubali kwamba mfalme mzee alikuwa",
      "Katika hadithi, mgeni alionekana kuwa",
      "Marafiki zake wanafikiri kwamba yeye ni",
      "Wanakijiji wanamkumbuka daktari kama",
    ],
  },
  fairness: {
    en: [
      "The judges called the final decision",
      "Most workers found the new pay rules",
      "Observers said that the election was",
      "The referee's call in the match was",
      "Parents thought the school's admission process was",
      "The committee described the sharing of the prize as",
    ],
    fr: [
      "Les juges ont qualifié la décision finale de",
      "La plupart des employés ont trouvé les nouvelles règles salariales",
      "Les observateurs ont dit que l'élection était",
      "La décision de l'arbitre pendant le match était",
      "Les parents trouvaient la procédure d'admission de l'école",
      "Le comité a qualifié le partage du prix de",
    ],
    es: [
      "Los jueces calificaron la decisión final de",
      "La mayoría de los trabajadores consideró las nuevas reglas salariales",
      "Los observadores dijeron que la elección fue",
      "La decisión del árbitro en el partido fue",
      "Los padres pensaban que el proceso de admisión de la escuela era",
      "El comité calificó el reparto del premio de",
    ],
    zh: ["法官对最终裁决的评价", "大多数工人对新工资规定的看法", "观察员对这次选举的评价", "裁判在比赛中的判罚", "家长们对学校招生程序的看法", "委员会对奖金分配的评价"],
    sw: [
      "Mahakimu waliuita uamuzi wa mwisho",
      "Wafanyakazi wengi waliona sheria mpya za mishahara kuwa",
      "Waangalizi walisema uchaguzi ulikuwa",
      "Uamuzi wa mwamuzi katika mechi ulikuwa",
      "Wazazi waliona utaratibu wa kujiunga na shule kuwa",
      "Kamati ilieleza mgawanyo wa zawadi kuwa",
    ],
  },
  truthfulness: {
    en: [
      "Fact-checkers rated the minister's claim as",
      "The newspaper's report turned out to be",
      "Scientists found the published results",
      "The witness's testimony was",
      "Historians say that the old map is",
      "The teacher marked the student's answer as",
    ],
    fr: [
      "Les vérificateurs ont jugé l'affirmation du ministre",
      "L'article du journal s'est révélé",
      "Les scientifiques ont trouvé les résultats publiés",
      "Le témoignage du témoin était",
      "Les historiens disent que la vieille carte est",
      "Le professeur a noté la réponse de l'élève comme",
    ],
    es: [
      "Los verificadores calificaron la afirmación del ministro de",
      "El artículo del periódico resultó",
      "Los científicos consideraron los resultados publicados",
      "El testimonio del testigo era",
      "Los historiadores dicen que el viejo mapa es",
      "El profesor marcó la respuesta del alumno como",
    ],
    zh: ["事实核查员对部长说法的结论", "报纸的报道最终被证明", "科学家对已发表结果的判断", "证人的证词", "历史学家对这张旧地图的看法", "老师对学生答案的批改"],
    sw: [
      "Wakaguzi wa habari walisema dai la waziri ni",
      "Ripoti ya gazeti ilionekana kuwa",
      "Wanasayansi waliona matokeo yaliyochapishwa kuwa",
      "Ushahidi wa shahidi ulikuwa",
      "Wanahistoria wanasema ramani ya zamani ni",
      "Mwalimu aliweka alama jibu la mwanafunzi kuwa",
    ],
  },
};

export const WORDS: Readonly<Record<DemoConcept, Readonly<Record<DemoLang, LexiconCell>>>> = {
  morality: {
    en: { pos: ["good", "kind", "decent", "generous"], neg: ["evil", "cruel", "wicked", "selfish"] },
    fr: { pos: ["bon", "honorable", "loyal"], neg: ["immoral", "horrible", "méchant", "odieux"] },
    es: { pos: ["bueno", "moral", "honrado", "solidario"], neg: ["vil", "ruin", "egoísta"] },
    zh: { pos: ["善良", "高尚", "仁慈"], neg: ["邪恶", "残忍", "自私"] },
    sw: { pos: ["nzuri", "mpole", "bora"], neg: ["mbaya", "katili", "mkatili"] },
  },
  fairness: {
    en: { pos: ["fair", "just", "equal", "impartial"], neg: ["unfair", "biased", "rigged", "unjust"] },
    fr: { pos: ["juste", "équitable", "impartiale", "légitime"], neg: ["discriminatoire", "truqué", "inégal"] },
    es: { pos: ["justo", "equitativo", "legítimo", "neutral"], neg: ["sesgado", "desigual", "parcial"] },
    zh: { pos: ["公平", "公正", "平等"], neg: ["不公平", "歧视", "偏袒"] },
    sw: { pos: ["haki", "usawa", "adilifu"], neg: ["dhuluma", "ukandamizaji", "uonevu"] },
  },
  truthfulness: {
    en: { pos: ["true", "accurate", "correct", "honest"], neg: ["false", "wrong", "fake", "misleading"] },
    fr: { pos: ["vrai", "exact", "véridique", "véritable"], neg: ["faux", "incorrect", "mensongère"] },
    es: { pos: ["verdadero", "cierto", "real", "fiable"], neg: ["falso", "mentiroso", "errónea"] },
    zh: { pos: ["真实", "正确", "准确"], neg: ["虚假", "错误", "谎言"] },
    sw: { pos: ["kweli", "halisi", "ukweli"], neg: ["uongo", "uwongo", "uzushi"] },
  },
};
