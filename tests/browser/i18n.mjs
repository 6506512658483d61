// The UI in Korean and in English: a browser whose locale is ko-KR (then
// en-US) sees every page in its language — home with the tree and a demo
// quiz, the login dialog, a real quiz, the dashboard with the create
// wizard, the account page and backup.html — with no catalogue key and no
// missing-key marker (⟦key⟧) on screen, no text left in the other
// language, dates and numbers from Intl; the header's switch persists
// across reloads.  Screenshots of both languages: tests/artifacts/i18n-*.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, url, check, shot, login, finish } from './lib.mjs';

const email = process.argv[2];
const here = path.dirname(fileURLToPath(import.meta.url));
const catalogueDir = path.join(here, '..', '..', 'nginx', 'www', 'js', 'i18n');

// key → text of one catalogue (one "'key': 'text'," entry a line).
function catalogue(code) {
  const text = fs.readFileSync(path.join(catalogueDir, `${code}.js`), 'utf8');
  const map = {};
  for (const m of text.matchAll(/^ {2}'([^']+)': '((?:[^'\\]|\\.)*)',$/gm)) {
    map[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  return map;
}

const CATALOGUES = { en: catalogue('en'), ko: catalogue('ko') };
const KEYS = Object.keys(CATALOGUES.en);
const HANGUL = /[\uac00-\ud7a3]/;

// What the page shows (visible text, title, labels) checked for keys, the
// marker, and [data-i18n] elements still showing the other language.
async function audit(page, code, name) {
  const other = code === 'ko' ? 'en' : 'ko';
  const found = await page.evaluate(({ keys, mine, theirs }) => {
    const texts = [document.title, document.body.innerText];
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
      for (const a of ['aria-label', 'title', 'placeholder']) texts.push(el.getAttribute(a) || '');
    }
    const all = texts.join('\n');
    const rawKeys = keys.filter((k) => k.includes('.') &&
      new RegExp(`(^|[^\\w.])${k.replace(/\./g, '\\.')}($|[^\\w.])`).test(all));
    const stale = [...document.querySelectorAll('[data-i18n]')]
      .filter((el) => { const k = el.dataset.i18n; return theirs[k] !== mine[k] && el.textContent === theirs[k]; })
      .map((el) => el.dataset.i18n);
    return {
      lang: document.documentElement.lang, marker: all.includes('⟦'), rawKeys, stale,
      pending: document.documentElement.classList.contains('i18n-pending'),
    };
  }, { keys: KEYS, mine: CATALOGUES[code], theirs: CATALOGUES[other] });
  check(found.lang === code, `${code} ${name}: <html lang="${code}">`, found.lang);
  check(!found.marker, `${code} ${name}: no missing-key marker`);
  check(found.rawKeys.length === 0, `${code} ${name}: no raw catalogue key`, found.rawKeys.join(', '));
  check(found.stale.length === 0, `${code} ${name}: nothing left in the other language`, found.stale.join(', '));
  check(!found.pending, `${code} ${name}: the page is shown (not held back for the language)`);
  await shot(page, `i18n-${code}-${name}`);
}

async function expectText(page, selector, key, code) {
  const text = ((await page.textContent(selector)) || '').trim();
  check(text === CATALOGUES[code][key], `${code}: ${selector} reads '${CATALOGUES[code][key]}'`, text);
}

async function closeDialog(page, id) {
  await page.keyboard.press('Escape');
  await page.waitForFunction((d) => !document.getElementById(d)?.open, id);
}

// Home logged out: the tree, a demo quiz, the login dialog.
async function homePages(page, code) {
  await page.goto(url + '/');
  await page.waitForSelector('#tree .lemon');
  await expectText(page, '#hero-title', 'home.hero_title', code);
  await expectText(page, 'nav.site-nav a[aria-current="page"]', 'nav.home', code);
  await audit(page, code, 'home');
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check(!overflow, `${code}: no horizontal scrolling at 375 px, language switch included`);
  await shot(page, `i18n-${code}-home-phone`);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#tree .lemon');
  await page.waitForSelector('#quiz-dialog[open] .quiz-option');
  await expectText(page, '#quiz-question', 'quiz.demo_question', code);
  await audit(page, code, 'quiz-demo');
  await closeDialog(page, 'quiz-dialog');
  await page.click('#login-button');
  await page.waitForSelector('#login-dialog[open]');
  await expectText(page, '#login-title', 'login.title', code);
  await audit(page, code, 'login');
  await closeDialog(page, 'login-dialog');
}

// Logged in: a real quiz comes from the server in the page's language.
async function realQuiz(page, code, address) {
  await login(page, address);
  await page.waitForSelector('#tree .lemon');
  await page.click('#tree .lemon');
  await page.waitForSelector('#quiz-dialog[open] .quiz-option');
  const question = await page.textContent('#quiz-question');
  check(HANGUL.test(question) === (code === 'ko'), `${code}: the server's quiz is in ${code}`, question);
  await audit(page, code, 'quiz');
  await closeDialog(page, 'quiz-dialog');
}

async function otherPages(page, code) {
  await page.goto(url + '/dashboard.html');
  await page.waitForSelector('#new-instance', { state: 'visible' });
  await page.click('#new-instance');
  await page.waitForSelector('#create-dialog[open] .preset-card');
  await expectText(page, '#create-title', 'dashboard.create_title', code);
  const desc = await page.textContent('.preset-card .preset-desc');
  check(HANGUL.test(desc) === (code === 'ko'), `${code}: the presets are described in ${code}`, desc);
  await audit(page, code, 'dashboard-wizard');
  await closeDialog(page, 'create-dialog');
  await page.goto(url + '/account.html');
  await page.waitForFunction(() => /\d/.test(document.querySelector('#account-balance')?.textContent || ''));
  await page.waitForSelector('#ledger-body tr');
  const joined = await page.textContent('#account-joined');
  const expected = new Intl.DateTimeFormat(code, { dateStyle: 'long' }).format(new Date());
  check(joined.trim() === expected, `${code}: dates through Intl in ${code}`, `${joined} vs ${expected}`);
  await audit(page, code, 'account');
  await page.goto(url + '/backup.html');
  await page.waitForSelector('#download-missing', { state: 'visible' });
  await audit(page, code, 'backup');
}

// The header's switch: the other language now and after a reload, then back.
async function switchPersists(page, code) {
  const other = code === 'ko' ? 'en' : 'ko';
  await page.goto(url + '/account.html');
  for (const [to, name] of [[other, 'switched'], [code, 'switched-back']]) {
    await Promise.all([page.waitForNavigation(), page.selectOption('#lang-select', to)]);
    await page.waitForSelector('#account-balance');
    await expectText(page, 'main h1', 'account.your_account', to);
    await page.reload();
    await expectText(page, 'main h1', 'account.your_account', to);
    check((await page.getAttribute('html', 'lang')) === to, `${code}: the switch to ${to} survives a reload`);
    await audit(page, to, `account-${name}-from-${code}`);
  }
}

const browser = await launch();
try {
  for (const [code, locale] of [['ko', 'ko-KR'], ['en', 'en-US']]) {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (/i18n: missing key/.test(msg.text())) check(false, `${code}: no missing key in the console`, msg.text());
    });
    await homePages(page, code);
    await realQuiz(page, code, email.replace('@', `-${code}@`));
    await otherPages(page, code);
    await switchPersists(page, code);
    await context.close();
  }
} catch (err) {
  check(false, 'the i18n scenario ran to its end', err.stack);
} finally {
  await browser.close();
  finish();
}
