// Language identification (franc-all restricted to the paper's 16 languages) and the same-language check.
import { describe, expect, test } from "vitest";
import {
  checkLanguage,
  DEFAULT_LANGUAGES,
  detectLanguage,
  francCode,
  fromIso6393,
  sameLanguage,
  toIso6393,
} from "../src/steer/scorers/index.js";

const SENTENCES: Record<string, string[]> = {
  en: [
    "The weather was lovely this morning, so we walked along the river before breakfast.",
    "Honesty matters because people need to trust each other when they make important decisions together.",
  ],
  zh: [
    "今天早上天气很好，所以我们在吃早饭之前沿着河边散步了很久。",
    "诚实很重要，因为人们在一起做重要决定的时候需要互相信任。",
  ],
  fr: [
    "Il faisait très beau ce matin, alors nous nous sommes promenés le long de la rivière avant le petit déjeuner.",
    "L'honnêteté est importante parce que les gens doivent se faire confiance quand ils prennent des décisions ensemble.",
  ],
  es: [
    "Hacía muy buen tiempo esta mañana, así que paseamos por la orilla del río antes del desayuno.",
    "La honestidad es importante porque las personas necesitan confiar unas en otras cuando toman decisiones juntas.",
  ],
  pt: [
    "O tempo estava lindo hoje de manhã, então caminhamos pela margem do rio antes do café da manhã.",
    "A honestidade é importante porque as pessoas precisam confiar umas nas outras quando tomam decisões juntas.",
  ],
  vi: [
    "Sáng nay thời tiết rất đẹp, nên chúng tôi đã đi dạo dọc bờ sông trước khi ăn sáng.",
    "Sự trung thực rất quan trọng vì mọi người cần tin tưởng nhau khi cùng đưa ra những quyết định lớn.",
  ],
  ca: [
    "Aquest matí feia molt bon temps, així que vam passejar vora el riu abans d'esmorzar.",
    "L'honestedat és important perquè les persones han de confiar les unes en les altres quan prenen decisions.",
  ],
  id: [
    "Cuaca pagi ini sangat cerah, jadi kami berjalan-jalan di tepi sungai sebelum sarapan.",
    "Kejujuran itu penting karena orang perlu saling percaya ketika mereka mengambil keputusan bersama.",
  ],
  ja: [
    "今朝はとても天気が良かったので、朝ご飯の前に川沿いを散歩しました。",
    "東京都庁舎前の広場で大規模な国際会議が開催された。",
  ],
  ko: [
    "오늘 아침 날씨가 정말 좋아서 우리는 아침을 먹기 전에 강가를 따라 산책했습니다.",
    "정직은 사람들이 함께 중요한 결정을 내릴 때 서로를 믿어야 하기 때문에 중요합니다.",
  ],
  fi: [
    "Sää oli tänä aamuna todella kaunis, joten kävelimme joen rantaa pitkin ennen aamiaista.",
    "Rehellisyys on tärkeää, koska ihmisten täytyy luottaa toisiinsa tehdessään yhdessä tärkeitä päätöksiä.",
  ],
  hu: [
    "Ma reggel nagyon szép idő volt, ezért reggeli előtt sétáltunk egyet a folyóparton.",
    "Az őszinteség fontos, mert az embereknek bízniuk kell egymásban, amikor közösen döntenek.",
  ],
  ta: [
    "இன்று காலை வானிலை மிகவும் அழகாக இருந்தது, அதனால் காலை உணவுக்கு முன் ஆற்றங்கரையில் நடந்தோம்.",
    "மக்கள் ஒன்றாக முக்கியமான முடிவுகளை எடுக்கும்போது ஒருவரையொருவர் நம்ப வேண்டும் என்பதால் நேர்மை முக்கியம்.",
  ],
  te: [
    "ఈ ఉదయం వాతావరణం చాలా బాగుంది, అందుకే మేము అల్పాహారానికి ముందు నది ఒడ్డున నడిచాము.",
    "ప్రజలు కలిసి ముఖ్యమైన నిర్ణయాలు తీసుకునేటప్పుడు ఒకరినొకరు నమ్మాలి కాబట్టి నిజాయితీ చాలా ముఖ్యం.",
  ],
  sw: [
    "Hali ya hewa ilikuwa nzuri sana asubuhi hii, kwa hiyo tulitembea kando ya mto kabla ya kifungua kinywa.",
    "Uaminifu ni muhimu kwa sababu watu wanahitaji kuaminiana wanapofanya maamuzi muhimu pamoja.",
  ],
  ny: [
    "Ana ambiri amakonda kusewera mpira madzulo akaweruka kusukulu ndipo makolo awo amasangalala nawo.",
    "Kukhulupirika ndi kofunika chifukwa anthu ayenera kukhulupirirana akamapanga zisankho zofunika pamodzi.",
  ],
};

describe("detectLanguage", () => {
  test("the default candidates are the paper's 16 languages", () => {
    expect([...DEFAULT_LANGUAGES].sort()).toEqual(Object.keys(SENTENCES).sort());
  });

  test.each(Object.entries(SENTENCES).flatMap(([lang, ss]) => ss.map((s) => [lang, s] as const)))("%s: %s", (lang, sentence) => {
    const g = detectLanguage(sentence);
    expect(g.lang, JSON.stringify(g.ranking.slice(0, 3))).toBe(lang);
    expect(g.iso6393).toBe(francCode(lang));
    expect(g.confidence).toBeGreaterThan(0);
    expect(g.confidence).toBeLessThanOrEqual(1);
  });

  test("too-short texts are und, whatever the script", () => {
    for (const t of ["", "ok", "Sure!", "Yes, sir.", "はい", "好的", "12345 67890 !!!", "네, 좋아요"]) {
      const g = detectLanguage(t);
      expect(g.lang, t).toBe("und");
      expect(g.reason, t).toBe("too-short");
      expect(g.confidence).toBe(0);
    }
    // Han and kana carry more per character: a short Chinese clause is enough.
    expect(detectLanguage("我不能帮你做这件事").lang).toBe("zh");
  });

  test("a script no candidate writes is und (no-candidate)", () => {
    const g = detectLanguage("Сегодня утром была прекрасная погода, и мы гуляли вдоль реки.");
    expect(g.lang).toBe("und");
    expect(g.reason).toBe("no-candidate");
    // Widening the candidates finds it.
    expect(detectLanguage("Сегодня утром была прекрасная погода, и мы гуляли вдоль реки.", { candidates: [...DEFAULT_LANGUAGES, "ru"] }).lang).toBe("ru");
  });

  test("Chinese with a stray kana stays Chinese; Japanese with kanji and kana is Japanese", () => {
    expect(detectLanguage("今天我们在东京的一家小店里吃了很好吃的拉面，店名叫做の屋，真的很推荐大家去尝试一下。").lang).toBe("zh");
    expect(detectLanguage("今日は東京の小さな店でとても美味しいラーメンを食べました。").lang).toBe("ja");
  });

  test("candidates restrict the guess", () => {
    const g = detectLanguage(SENTENCES.es[0], { candidates: ["pt", "ca"] });
    expect(["pt", "ca"]).toContain(g.lang);
    expect(g.ranking.map((r) => r.lang).sort()).toEqual(["ca", "pt"]);
  });
});

describe("code mapping", () => {
  test("ISO 639-1 ↔ franc's ISO 639-3 codes (individual languages for zh and sw)", () => {
    expect(francCode("zh")).toBe("cmn");
    expect(francCode("sw")).toBe("swh");
    expect(francCode("ny")).toBe("nya");
    expect(francCode("id")).toBe("ind");
    expect(toIso6393("zh")).toBe("zho");
    expect(toIso6393("sw")).toBe("swa");
    for (const c of ["cmn", "zho"]) expect(fromIso6393(c)).toBe("zh");
    for (const c of ["swh", "swa"]) expect(fromIso6393(c)).toBe("sw");
    for (const l of DEFAULT_LANGUAGES) {
      expect(fromIso6393(francCode(l))).toBe(l);
      expect(fromIso6393(toIso6393(l))).toBe(l);
    }
    expect(() => francCode("xx")).toThrow(RangeError);
    expect(francCode("yor")).toBe("yor");
  });
});

describe("sameLanguage", () => {
  test("an output in the prompt's language passes, a switched one fails", () => {
    expect(sameLanguage(SENTENCES.fr[1], "fr")).toBe(true);
    expect(sameLanguage(SENTENCES.en[1], "fr")).toBe(false);
    expect(sameLanguage(SENTENCES.ja[0], "ja")).toBe(true);
    expect(sameLanguage(SENTENCES.zh[0], "ja")).toBe(false);
    expect(sameLanguage(SENTENCES.sw[1], "ny")).toBe(false);
    expect(sameLanguage(SENTENCES.ny[1], "ny")).toBe(true);
    // ISO 639-3 input is accepted.
    expect(sameLanguage(SENTENCES.sw[0], "swh")).toBe(true);
  });

  test("the expected language is always a candidate", () => {
    const r = checkLanguage("Heute Morgen war das Wetter wunderschön, deshalb sind wir vor dem Frühstück am Fluss spazieren gegangen.", "de");
    expect(r.same).toBe(true);
    expect(r.detected.lang).toBe("de");
    expect(sameLanguage(SENTENCES.en[0], "de")).toBe(false);
  });

  test("too-short output is undetermined: false by default, configurable", () => {
    expect(checkLanguage("OK.", "en").same).toBeNull();
    expect(sameLanguage("OK.", "en")).toBe(false);
    expect(sameLanguage("OK.", "en", { ifUndetermined: true })).toBe(true);
  });

  test("minConfidence turns close calls into undetermined", () => {
    const r = checkLanguage(SENTENCES.ca[0], "ca", { minConfidence: 1.01 });
    expect(r.same).toBeNull();
    expect(r.detected.lang).toBe("ca");
  });
});
