// Shared helpers for dbtree's browser scenarios: Debian's Chromium through
// playwright-core, screenshots kept under tests/artifacts/, and the login
// code read from the test SMTP server's mail folder.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const url = process.env.DBTREE_URL;
export const artifacts = process.env.DBTREE_ARTIFACTS;
const smtpDir = process.env.DBTREE_SMTP_DIR;
let failures = 0;

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function check(cond, name, detail = '') {
  if (cond) {
    console.log(`ok   ${name}`);
  } else {
    failures++;
    console.log(`FAIL ${name}: ${detail}`);
  }
}

export async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// A mail file's text with quoted-printable undone (a Korean mail's body is
// encoded so; an English one reads the same either way).
function mailText(file) {
  const raw = fs.readFileSync(file, 'latin1').replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(raw, 'latin1').toString('utf8');
}

// Waits for the newest mail to `to` carrying a login code (in English or
// Korean), newer than `after`.
export async function codeFor(to, after) {
  for (let i = 0; i < 200; i++) {
    const files = fs.readdirSync(smtpDir).filter((f) => f.endsWith('.eml'))
      .map((f) => path.join(smtpDir, f))
      .filter((f) => fs.statSync(f).mtimeMs > after)
      .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
    for (const f of files.reverse()) {
      const text = mailText(f);
      const m = text.match(/(?:login code|로그인 코드): (\d{6})/);
      if (text.includes(`X-Envelope-To: ${to}`) && m) return m[1];
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no login code mail for ${to}`);
}

// as the service's user: the only one its PostgreSQL lets in
const runDir = process.env.DBTREE_RUN_DIR;
const asService = process.getuid() === 0 && process.env.DBTREE_SERVICE_USER &&
  process.env.DBTREE_SERVICE_USER !== 'root'
  ? ['runuser', '-u', process.env.DBTREE_SERVICE_USER, '--'] : [];

export function sql(query) {
  const argv = [...asService, 'psql', '-h', runDir, '-U', 'dbtree', '-d', 'dbtree', '-X',
    '-v', 'ON_ERROR_STOP=1', '-t', '-A', '-c', query];
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' }).trim();
}

// The right answer to the quiz on a lemon, read from the test database (the page never
// receives it).
export function rightOption(pos) {
  return Number(sql(`SELECT q.correct_option_idx FROM lemons l JOIN quizzes q
    ON q.id = l.quiz_id WHERE l.position_id = ${Number(pos)}`));
}

// Opens the login dialog with `button` and logs in with the code from the mail.
export async function enterCode(page, email, button = '#login-button') {
  await page.click(button);
  await page.fill('#login-email', email);
  const sentAt = Date.now() - 1000;
  await page.click('#login-send');
  await page.waitForSelector('#login-code', { state: 'visible' });
  await page.fill('#login-code', await codeFor(email, sentAt));
  await page.click('#login-verify');
}

// Logs in from the home page; resolves once the header shows a new account's 15 lemons.
export async function login(page, email) {
  await enterCode(page, email);
  await page.waitForFunction(() => /15/.test(document.querySelector('#header-balance')?.textContent || ''));
}

export async function openQuiz(page, pos) {
  await page.click(`#lemon-${pos}`);
  await page.waitForSelector('#quiz-dialog[open] .quiz-option');
}

// Opens the quiz on lemon pos, answers right and clicks the circle; resolves when the
// harvest's answer arrived (its time, ms since the epoch).
export async function harvestLemon(page, pos) {
  await openQuiz(page, pos);
  await page.click(`.quiz-option[data-index="${rightOption(pos)}"]`);
  await page.waitForSelector('#harvest-target', { state: 'visible' });
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/lemon/harvest') && r.status() === 200);
  await page.click('#harvest-target');
  await answered;
  const at = Date.now();
  await page.click('#quiz-close');
  return at;
}

export function finish() {
  process.exitCode = failures ? 1 : 0;
}
