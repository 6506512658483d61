// Shared helpers for dbtree's browser scenarios: Debian's Chromium through
// playwright-core, screenshots kept under tests/artifacts/, and the login
// code read from the test SMTP server's mail folder.
import { chromium } from 'playwright-core';
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

export function finish() {
  process.exitCode = failures ? 1 : 0;
}
