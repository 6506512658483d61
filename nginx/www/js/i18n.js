// The UI's languages: one catalogue per language (js/i18n/en.js, js/i18n/ko.js),
// flat maps of key → text with {name} placeholders. Stable API:
//
//   t('quiz.title', { n: 3 })         text in the chosen language
//   tn('unit.lemons', 3)              plural: picks 'unit.lemons.one' / '.other'
//   lang() / setLang('ko')            chosen language ('en' | 'ko'); setLang saves it
//   fmtNumber(n) / fmtDate(d, opts) / fmtRelative(value, unit)   through Intl
//   applyI18n(root)                   fills [data-i18n="key"] (text),
//                                     [data-i18n-html="key"] (the catalogue's own
//                                     markup, e.g. <strong>; never user text) and
//                                     [data-i18n-attr="aria-label:key;title:key"]
//
// The language is chosen before first paint by js/boot.js (saved choice in
// localStorage "dbtree.lang", else the first of navigator.languages we speak),
// which sets <html lang>; this module reads it from there. A key missing
// from the chosen catalogue falls back to English; one missing from both shows
// as ⟦key⟧ so tests can spot it. Adding a language: a catalogue file, an entry
// in CATALOGUES and LANGS, and its name under 'lang.<code>'.

import en from './i18n/en.js';
import ko from './i18n/ko.js';

export const LANGS = ['en', 'ko'];
const CATALOGUES = { en, ko };
const KEY = 'dbtree.lang';

let current = LANGS.includes(document.documentElement.lang) ? document.documentElement.lang : 'en';

export function lang() {
  return current;
}

// Saves the choice and sets <html lang>. Text already on the page stays as it
// is: callers re-render or reload (the header's switch reloads).
export function setLang(code) {
  if (!LANGS.includes(code)) return;
  current = code;
  try {
    localStorage.setItem(KEY, code);
  } catch { /* not saved, still applied */ }
  document.documentElement.lang = code;
  window.dispatchEvent(new CustomEvent('dbtree:lang', { detail: { lang: code } }));
}

export function has(key) {
  return key in CATALOGUES[current] || key in en;
}

export function t(key, vars) {
  const text = CATALOGUES[current][key] ?? en[key];
  if (text === undefined) {
    console.warn(`i18n: missing key '${key}'`);
    return `⟦${key}⟧`;
  }
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// Plural text: '<key>.one' or '<key>.other' by Intl.PluralRules, with {n}
// the formatted count (Korean has only 'other').
export function tn(key, n, vars) {
  const form = new Intl.PluralRules(current).select(n);
  const full = `${key}.${form}`;
  return t(has(full) ? full : `${key}.other`, { n: fmtNumber(n), ...vars });
}

export function fmtNumber(n, opts) {
  return new Intl.NumberFormat(current, opts).format(n);
}

export function fmtDate(d, opts = { dateStyle: 'medium', timeStyle: 'short' }) {
  return new Intl.DateTimeFormat(current, opts).format(d instanceof Date ? d : new Date(d));
}

// fmtRelative(-5, 'minute') → "5 minutes ago" / "5분 전".
export function fmtRelative(value, unit, opts = { numeric: 'auto' }) {
  return new Intl.RelativeTimeFormat(current, opts).format(value, unit);
}

// Fills text and attributes from the catalogue under root (and root itself).
export function applyI18n(root = document) {
  const SEL = '[data-i18n], [data-i18n-html], [data-i18n-attr]';
  const all = [...root.querySelectorAll(SEL)];
  if (root.matches?.(SEL)) all.push(root);
  for (const el of all) {
    if (el.dataset.i18n) el.textContent = t(el.dataset.i18n);
    if (el.dataset.i18nHtml) el.innerHTML = t(el.dataset.i18nHtml);
    for (const pair of (el.dataset.i18nAttr || '').split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  if (root === document) document.documentElement.classList.remove('i18n-pending');
}
