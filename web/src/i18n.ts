// Translations keyed by the English text itself (gettext style): a string
// that is not yet translated shows in English instead of a key name, and a
// new string needs no catalog entry before it can be used. i18n.test.ts
// keeps every locale complete.
//
// Catalogs load on demand (main.tsx waits for the chosen one before the first
// render): an English visitor downloads none, and a catalog does not count
// against the first page's script budget.
type Catalog = Record<string, string>;

const loaders = import.meta.glob<Catalog>("./locales/*.json", { import: "default" });

/** The languages with a catalog (besides English, the source text). */
export const languages: readonly string[] = Object.keys(loaders).map((p) => p.replace(/^.*\/(\w+)\.json$/, "$1"));

const catalogs: Record<string, Catalog> = {};

export type Vars = Record<string, string | number>;

// pickLanguage takes the first of the browser's languages that has a
// catalog; English (the source text) otherwise.
export function pickLanguage(preferred: readonly string[]): string {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "en") return "en";
    if (languages.includes(base)) return base;
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

// loadLanguage fetches the chosen language's catalog; until it is in, t()
// answers in English.
export async function loadLanguage(): Promise<void> {
  const lang = current;
  const load = loaders[`./locales/${lang}.json`];
  if (lang === "en" || catalogs[lang] || !load) return;
  catalogs[lang] = await load();
}

// setLanguage is for tests and a future language switch; a catalog given is
// used at once, else loadLanguage brings it.
export function setLanguage(lang: string, catalog?: Catalog): void {
  current = lang === "en" || languages.includes(lang) ? lang : "en";
  if (catalog && current !== "en") catalogs[current] = catalog;
  if (typeof document !== "undefined") document.documentElement.lang = current;
}

// locale is the BCP 47 tag for Intl formatting: the browser's own tag of the
// chosen language (de-AT keeps Austrian dates), else the language itself.
export function locale(): string {
  const own = browserLanguages().find((tag) => tag.toLowerCase().split("-")[0] === current);
  return own ?? current;
}

// formatDateTime shows a date and time the way the chosen language writes it.
export function formatDateTime(d: Date, opts: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" }): string {
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

// formatNumber shows a number with the chosen language's separators.
export function formatNumber(n: number, opts?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(locale(), opts).format(n);
}

// t translates text and fills {name} placeholders from vars.
export function t(text: string, vars?: Vars): string {
  const out = current === "en" ? text : (catalogs[current]?.[text] ?? text);
  if (!vars) return out;
  return out.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

if (typeof document !== "undefined") document.documentElement.lang = current;
