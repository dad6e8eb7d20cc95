import { describe, expect, it } from "vitest";
import { languages, pickLanguage, setLanguage, t } from "./i18n";

const catalogs = Object.fromEntries(
  Object.entries(import.meta.glob<Record<string, string>>("./locales/*.json", { import: "default", eager: true })).map(([p, c]) => [
    p.replace(/^.*\/(\w+)\.json$/, "$1"),
    c,
  ]),
);

// Every source file of the app, as text (Vite's glob import; tests and the
// catalogs themselves left out).
const sources = import.meta.glob(["./**/*.ts", "./**/*.tsx", "!./**/*.test.ts", "!./**/*.test.tsx"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

// sourceStrings finds every literal passed to t() in the app's sources.
function sourceStrings(): Set<string> {
  const out = new Set<string>();
  for (const src of Object.values(sources)) {
    for (const m of src.matchAll(/\bt\(\s*(['"])((?:(?!\1)[^\\]|\\.)*)\1/g)) {
      out.add(JSON.parse(`"${m[2].replace(/\\'/g, "'").replace(/(?<!\\)"/g, '\\"')}"`));
    }
  }
  return out;
}

describe("i18n", () => {
  const used = sourceStrings();
  it("finds the app's strings", () => expect(used.size).toBeGreaterThan(0));

  for (const [lang, catalog] of Object.entries(catalogs)) {
    it(`${lang} translates every string the app shows`, () => {
      const missing = [...used].filter((s) => !(s in catalog));
      expect(missing).toEqual([]);
    });
    it(`${lang} keeps every placeholder`, () => {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [en, tr] of Object.entries(catalog)) expect([en, names(tr)]).toEqual([en, names(en)]);
    });
  }

  it("lists every catalog as a language", () => expect([...languages].sort()).toEqual(Object.keys(catalogs).sort()));

  it("picks the browser's first language that has a catalog", () => {
    expect(pickLanguage(["fr-FR", "de-AT", "en"])).toBe("de");
    expect(pickLanguage(["en-GB", "de"])).toBe("en");
    expect(pickLanguage(["fr"])).toBe("en");
  });

  it("fills placeholders and falls back to English", () => {
    setLanguage("de", catalogs.de);
    expect(t("{n} waiting", { n: 3 })).toBe("3 warten");
    expect(t("a string nobody translated")).toBe("a string nobody translated");
    setLanguage("en");
    expect(t("{n} waiting", { n: 3 })).toBe("3 waiting");
  });
});
