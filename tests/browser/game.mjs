// The game on the pages: the golden lemon drawn differently on the tree and
// named in the quiz dialog, its harvest's toasts (achievements), the streak
// block and the achievements panel on the account page, the toast for an
// achievement earned elsewhere (once), and the panel in Korean.  The golden
// lemon is made by the regrow job before this runs (test_browser.py);
// argv: e-mail, the golden position.
import { launch, url, check, shot, finish, login, rightOption, sql } from './lib.mjs';

const email = process.argv[2];
const golden = Number(process.argv[3]);

async function toastWith(page, re) {
  await page.waitForFunction((src) => [...document.querySelectorAll('.toast-text')]
    .some((p) => new RegExp(src).test(p.textContent)), re.source, { timeout: 10000 });
  return true;
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => check(false, 'no script error on the page', e.message));
  await page.goto(url + '/');
  await page.waitForSelector('.lemon-golden');
  check((await page.locator('.lemon-golden').count()) === 1, 'one lemon is drawn golden');
  check(await page.getAttribute('.lemon-golden', 'id') === `lemon-${golden}`, 'the golden one',
    await page.getAttribute('.lemon-golden', 'id'));
  check(/golden/i.test(await page.getAttribute('.lemon-golden', 'aria-label')), 'and says so',
    await page.getAttribute('.lemon-golden', 'aria-label'));
  await shot(page, 'tree-golden');
  await login(page, email);
  await page.click(`#lemon-${golden}`);
  await page.waitForSelector('#quiz-dialog[open] .quiz-option');
  check(await page.isVisible('#quiz-golden'), 'the quiz dialog says golden',
    await page.textContent('#quiz-golden'));
  await shot(page, 'tree-golden-quiz');
  await page.click(`.quiz-option[data-index="${rightOption(golden)}"]`);
  await page.waitForSelector('#harvest-target', { state: 'visible' });
  await page.click('#harvest-target');
  await page.waitForFunction(() => /harvested/i.test(document.querySelector('#harvest-result')?.textContent || ''));
  check(/9 lemons/.test(await page.textContent('#harvest-result')), 'three times the lemons',
    await page.textContent('#harvest-result'));
  check(await toastWith(page, /Achievement earned: Golden lemon \(\+3 lemons\)/), 'a toast for the golden lemon');
  check(await toastWith(page, /Achievement earned: First harvest/), 'and for the first harvest');
  await page.waitForFunction(() => /27/.test(document.querySelector('#header-balance').textContent));
  check(true, 'the balance counts the reward too (15 + 9 + 3)');
  await shot(page, 'tree-golden-harvested');
  await page.click('#quiz-close');
  await page.waitForSelector('.lemon-golden', { state: 'detached', timeout: 10000 });
  check(true, 'no golden lemon once it is harvested');

  await page.goto(url + '/account.html');
  await page.waitForSelector('#achievement-list li');
  check(/1 day/.test(await page.textContent('#streak-current')), 'the streak block',
    await page.textContent('#streak-box'));
  check(/3 days/.test(await page.textContent('#streak-next')), 'the next bonus',
    await page.textContent('#streak-next'));
  check((await page.locator('#achievement-list li').count()) === 9, 'every achievement listed');
  for (const key of ['first_harvest', 'golden_lemon']) {
    check(await page.getAttribute(`li[data-key="${key}"]`, 'data-earned') === 'true', `${key} earned`);
  }
  check(/1 of 10/.test(await page.textContent('li[data-key="harvests_10"]')), 'progress on ten harvests',
    await page.textContent('li[data-key="harvests_10"]'));
  check((await page.locator('.toast-text').count()) === 0, 'nothing announced twice');
  await shot(page, 'account-achievements');

  const uid = sql(`SELECT id FROM users WHERE email = '${email}'`);
  sql(`INSERT INTO user_achievements (user_id, key) VALUES ('${uid}', 'first_database')`);
  await page.reload();
  check(await toastWith(page, /Achievement earned: First database/), 'one earned elsewhere is announced on load');
  await page.waitForSelector('li[data-key="first_database"][data-earned="true"]');
  await page.reload();
  await page.waitForSelector('li[data-key="first_database"][data-earned="true"]');
  check((await page.locator('.toast-text').count()) === 0, 'and only once');

  await page.evaluate(() => localStorage.setItem('dbtree.lang', 'ko'));
  await page.reload();
  await page.waitForSelector('#achievement-list li');
  check(await page.textContent('#achievements-title') === '업적', 'the panel in Korean');
  check(/첫 수확/.test(await page.textContent('li[data-key="first_harvest"]')), 'achievement names in Korean');
  check(!/⟦/.test(await page.textContent('main')), 'no missing key on the page');
  await shot(page, 'account-achievements-ko');
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  await browser.close();
  finish();
}
