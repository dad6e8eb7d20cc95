// Translations keyed by the English text itself (gettext style): a string
// that is not yet translated shows in English instead of a key name, and a
// new string needs no catalog entry before it can be used. i18n.test.ts
// keeps every locale complete.
import de from "./locales/de.json";

type Catalog = Record<string, string>;

export const catalogs: Record<string, Catalog> = { de };

export type Vars = Record<string, string | number>;

// pickLanguage takes the first of the browser's languages that has a
// catalog; English (the source text) otherwise.
export function pickLanguage(languages: readonly string[]): string {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "en") return "en";
    if (catalogs[base]) return base;
  }
  return "en";
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

let current = pickLanguage(browserLanguages());

export function language(): string {
  return current;
}

// setLanguage is for tests and a future language switch.
export function setLanguage(lang: string): void {
  current = lang === "en" || catalogs[lang] ? lang : "en";
  if (typeof document !== "undefined") document.documentElement.lang = current;
}

// t translates text and fills {name} placeholders from vars.
export function t(text: string, vars?: Vars): string {
  const out = current === "en" ? text : (catalogs[current]?.[text] ?? text);
  if (!vars) return out;
  return out.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

if (typeof document !== "undefined") document.documentElement.lang = current;
