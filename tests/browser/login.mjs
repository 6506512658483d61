// Log in through the dialog with the code from the SMTP server, see the
// balance, switch the theme, look at a phone-sized screen, log out.
import { launch, url, check, shot, codeFor, finish } from './lib.mjs';

const email = process.argv[2];
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url + '/');
  await shot(page, 'home-logged-out');
  await page.click('#login-button');
  await page.fill('#login-email', email);
  const sentAt = Date.now() - 1000;
  await page.click('#login-send');
  await page.waitForSelector('#login-code', { state: 'visible' });
  const resend = await page.textContent('#login-resend');
  check(/\d+\s*s/.test(resend), 'resend button counts down', resend);
  await page.fill('#login-code', '000000');
  await page.click('#login-verify');
  await page.waitForFunction(() => document.querySelector('#login-error')?.textContent.trim());
  const err = await page.textContent('#login-error');
  check(/wrong code/i.test(err), 'a wrong code is explained in words', err);
  await shot(page, 'login-wrong-code');
  await page.fill('#login-code', await codeFor(email, sentAt));
  await page.click('#login-verify');
  await page.waitForSelector('#header-balance');
  await page.waitForFunction(() => /15/.test(document.querySelector('#header-balance').textContent));
  check(true, 'logged in: the header shows 15 lemons');
  check((await page.textContent('#header-email')).includes(email), 'the header shows the e-mail');
  await shot(page, 'home-logged-in');
  const before = await page.getAttribute('html', 'data-theme');
  await page.click('#theme-toggle');
  const after = await page.getAttribute('html', 'data-theme');
  check(before !== after && ['light', 'dark'].includes(after), 'theme switches', `${before} -> ${after}`);
  await page.reload();
  check((await page.getAttribute('html', 'data-theme')) === after, 'theme survives a reload');
  await shot(page, 'home-dark');
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check(!overflow, 'no horizontal scrolling at 375 px');
  await shot(page, 'home-375');
  await page.goto(url + '/account.html');
  await page.waitForFunction(() => /15/.test(document.querySelector('#account-balance')?.textContent || ''));
  check((await page.textContent('#account-email')).includes(email), 'account page shows the profile');
  await shot(page, 'account-375');
  await page.click('#logout-button');
  await page.waitForSelector('#login-button', { state: 'visible' });
  check(true, 'logged out: the login button is back');
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  await browser.close();
  finish();
}
