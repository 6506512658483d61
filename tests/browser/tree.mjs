// The tree page: a logged-in person clicks a lemon, answers right, hits the
// moving circle, sees the balance grow and the lemon go; then a wrong
// answer on another lemon shows the explanation.  The right answer is read
// from the test database (the page never receives it).
import { launch, url, check, shot, finish, login, openQuiz, rightOption } from './lib.mjs';

const email = process.argv[2];

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url + '/');
  await page.waitForSelector('#lemon-0');
  check((await page.locator('.lemon').count()) === 10, 'ten lemons hang on the tree');
  await login(page, email);
  await openQuiz(page, 0);
  check(await page.isVisible('#quiz-timer'), 'the quiz shows a countdown');
  await shot(page, 'tree-quiz');
  await page.click(`.quiz-option[data-index="${rightOption(0)}"]`);
  await page.waitForSelector('#harvest-target', { state: 'visible' });
  await shot(page, 'tree-circle-game');
  await page.click('#harvest-target');
  await page.waitForFunction(() => /harvested/i.test(document.querySelector('#harvest-result')?.textContent || ''));
  check(/3 lemons/.test(await page.textContent('#harvest-result')), 'the result is said in words',
    await page.textContent('#harvest-result'));
  await page.waitForFunction(() => /18/.test(document.querySelector('#header-balance').textContent));
  check(true, 'the balance grew to 18 without a reload');
  await shot(page, 'tree-harvested');
  await page.click('#quiz-close');
  await page.waitForSelector('#lemon-0', { state: 'hidden', timeout: 10000 });
  check(true, 'the harvested lemon is gone from the tree');
  check(/\d+:\d\d/.test(await page.textContent('#cooldown')), 'the cooldown counts down',
    await page.textContent('#cooldown'));
  // wait out the test stack's 2-second cooldown, then answer wrong
  await page.waitForTimeout(2500);
  await openQuiz(page, 1);
  const wrong = (rightOption(1) + 1) % (await page.locator('.quiz-option').count());
  await page.click(`.quiz-option[data-index="${wrong}"]`);
  await page.waitForFunction(() => (document.querySelector('#quiz-explanation')?.textContent || '').length > 20);
  check(await page.isVisible('#quiz-explanation'), 'a wrong answer shows the explanation');
  await shot(page, 'tree-wrong-answer');
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  await browser.close();
  finish();
}
