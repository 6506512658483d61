// The live tree in two browsers: A and B race for a lemon, B wins, and A's
// page (never reloaded) loses the lemon and the race within a second
// through nginx's event stream; A survives an
// nginx reload and gets what was published while it was away from its last
// event id; a third page whose event stream is refused keeps up by polling.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launch, url, check, shot, finish, login, harvestLemon, openQuiz, rightOption } from './lib.mjs';

const email = process.argv[2];
const rival = `rival-${email}`;
const stateDir = path.dirname(process.env.DBTREE_RUN_DIR);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const EVENTS = '**/api/lemon/events*';

async function watcher(browser, { refuse = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  if (refuse) await page.route(EVENTS, (route) => route.abort('connectionrefused'));
  await page.goto(url + '/');
  await page.waitForSelector('.lemon');
  return page;
}

// Resolves with the time lemon pos left page's tree (ms since the epoch).
function gone(page, pos, timeout) {
  return page.waitForSelector(`#lemon-${pos}`, { state: 'detached', timeout }).then(() => Date.now());
}

const streamed = (page, pos) => page.evaluate(
  (p) => window.dbtreeLive.events.some((e) => e.type === 'harvest' && e.positions.includes(p)), pos);

const browser = await launch();
try {
  const a = await watcher(browser);
  await a.waitForFunction(() => document.documentElement.dataset.live === 'live');
  check(/live/i.test(await a.textContent('#live-state')), 'A says it is live');
  const b = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await b.goto(url + '/');
  await login(b, email);

  // 1. a race: both answer right and chase the circle; B clicks first, and A's
  //    dialog and tree say so at once
  await login(a, rival);
  for (const page of [b, a]) {
    await openQuiz(page, 3);
    await page.click(`.quiz-option[data-index="${rightOption(3)}"]`);
    await page.waitForSelector('#harvest-target', { state: 'visible' });
  }
  const seen = gone(a, 3, 5000);
  const told = a.waitForFunction(() => /faster/i.test(document.querySelector('#harvest-result')?.textContent || ''),
    null, { timeout: 5000 }).then(() => Date.now());
  const answered = b.waitForResponse((r) => r.url().endsWith('/api/lemon/harvest') && r.status() === 200);
  await b.click('#harvest-target');
  await answered;
  const harvested = Date.now();
  const lag = (await seen) - harvested;
  check(lag < 1000, `A saw the lemon gone ${lag} ms after B's harvest (within 1 s, no reload)`);
  const toldLag = (await told) - harvested;
  check(toldLag < 1000, `A's race ended with "someone else was faster" ${toldLag} ms after B won`);
  check(await streamed(a, 3), 'through the event stream, not the 30 s poll');
  await shot(a, 'live-a-lost-the-race');
  await a.click('#quiz-close');
  await b.click('#quiz-close');

  // 2. nginx reloads while a harvest happens; A catches up from its last event id
  await a.route(EVENTS, (route) => route.abort('connectionrefused'));
  execFileSync(path.join(root, 'bin', 'dbtree-local'), ['nginx-reload', stateDir]);
  await a.waitForFunction(() => document.documentElement.dataset.live === 'reconnecting');
  check(/reconnecting/i.test(await a.textContent('#live-state')), 'A says it is reconnecting');
  await b.waitForTimeout(2100); // the test stack's 2 s cooldown, for B
  await harvestLemon(b, 5);
  await a.unroute(EVENTS);
  await a.waitForFunction(() => window.dbtreeLive.events.some((e) => e.type === 'harvest' && e.positions.includes(5)),
    null, { timeout: 35000 });
  check(true, 'A got the harvest published while it was away, from the stream');
  await a.waitForSelector('#lemon-5', { state: 'detached', timeout: 2000 });
  await a.waitForFunction(() => document.documentElement.dataset.live === 'live');
  check(true, 'A is live again and the lemon is gone');

  // 3. no event stream at all: the fallback poll
  const c = await watcher(browser, { refuse: true });
  await c.waitForFunction(() => document.documentElement.dataset.live === 'reconnecting');
  await b.waitForTimeout(2100);
  const cSeen = gone(c, 7, 10000);
  const at = await harvestLemon(b, 7);
  const cLag = (await cSeen) - at;
  check(cLag < 7000, `C, with its stream refused, saw it by polling after ${cLag} ms`);
  check(!(await streamed(c, 7)), 'C got no event (the stream was refused)');
  await shot(c, 'live-c-polling');
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  await browser.close();
  finish();
}
