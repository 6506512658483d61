// Backups on the dashboard: create a PostgreSQL database, put a row in it,
// take a backup with "Back up now" (the jobs loop runs meanwhile; a pause
// point holds the dump so "Backing up…" can be seen), see it done with a
// size, download it, change the row, restore through the confirmation dialog
// (held again to see "Restoring…"), see it running with the row back; then
// delete the database and download its last copy from /account.html#backups.
// PostgreSQL, so that psql can show what the restore put back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch, url, check, shot, enterCode, finish, sql } from './lib.mjs';

const email = process.argv[2];
const pauseDir = process.env.DBTREE_TEST_PAUSE_DIR;
const NAME = 'bk-db';

// a statement in the database the scenario made, as its owner
function inDb(uri, text) {
  return execFileSync('psql', [uri, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', text],
    { encoding: 'utf8', timeout: 20000 }).trim();
}

async function until(cond, what, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Pause points (lib/base/pause.h): the backups job is held at `name` while
// the file exists, and says so in `name`.reached.
const armed = new Set();
function arm(name) {
  fs.writeFileSync(path.join(pauseDir, name), '');
  armed.add(name);
}
function release(name) {
  fs.rmSync(path.join(pauseDir, name), { force: true });
  armed.delete(name);
}
const reached = (name) => until(() => fs.existsSync(path.join(pauseDir, `${name}.reached`)),
  `the backups job at pause point ${name}`);

async function waitStatus(page, status, timeout = 60000) {
  await page.waitForFunction((s) =>
    document.querySelector('#detail-status')?.getAttribute('data-status') === s,
  status, { timeout });
}

const hidden = (page, sel) => page.$eval(sel, (el) => el.hidden || el.offsetParent === null);

async function downloadFrom(page, selector) {
  const [dl] = await Promise.all([
    page.waitForEvent('download', { timeout: 30000 }),
    page.click(selector),
  ]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), failure: await dl.failure(), bytes: file ? fs.readFileSync(file) : Buffer.alloc(0) };
}

const toastSays = (page, re) => page.waitForFunction((src) =>
  [...document.querySelectorAll('.toast-text')].some((t) => new RegExp(src).test(t.textContent)),
re.source, { timeout: 60000 });

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url + '/dashboard.html');
  await enterCode(page, email, '#dashboard-login-button');
  await page.waitForSelector('#new-instance', { state: 'visible' });
  // the test stack bills every 3 s: enough lemons for the whole scenario
  sql(`WITH u AS (UPDATE users SET lemon_balance = lemon_balance + 300,
    total_earned_lemons = total_earned_lemons + 300 WHERE email = '${email}'
    RETURNING id, lemon_balance) INSERT INTO user_lemon_transactions
    (user_id, action_type, amount, balance, note)
    SELECT id, 'grant', 300, lemon_balance, 'test grant' FROM u`);

  // nothing deleted yet: the account page keeps the section out of sight
  await page.goto(url + '/account.html');
  await page.waitForSelector('#backups[aria-busy="false"]', { state: 'attached' });
  check(await page.$eval('#backups', (el) => el.hidden), 'the account page hides "Last copies" when there are none');

  await page.goto(url + '/dashboard.html');
  await page.click('#new-instance');
  await page.fill('#create-name', NAME);
  await page.click('label.preset-card[data-preset-id="postgres-standalone-tiny"]');
  await page.click('#create-submit');
  await page.waitForSelector('#credentials-dialog[open]');
  const uri = (await page.textContent('#credentials-uri')).trim();
  await page.click('#credentials-done');
  await page.click('.instance-item .instance-link');
  await waitStatus(page, 'running');
  inDb(uri, "CREATE TABLE fruit (name text); INSERT INTO fruit VALUES ('lemon')");
  check(inDb(uri, 'SELECT name FROM fruit') === 'lemon', 'a row goes in');
  await page.waitForSelector('#backups-empty', { state: 'visible' });
  check(true, 'no backups yet, and the block says so');
  const costText = (await page.textContent('#backup-cost')).trim();
  check(costText === '(costs 1 lemon)', 'the cost is shown beside "Back up now"', costText);

  // wait out any backup another scenario left (final ones come first), then hold ours
  await until(() => sql("SELECT count(*) FROM db_backups WHERE state IN ('queued', 'running')") === '0',
    'no backup under way', 60000);
  arm('backup.dump');
  await page.click('#backup-now');
  await page.waitForSelector('#backup-list li[data-kind="manual"]');
  await reached('backup.dump');
  await waitStatus(page, 'backing_up');
  const busyText = (await page.textContent('#detail-status')).trim();
  check(busyText === 'Backing up…', 'the status says "Backing up…"', busyText);
  check(await hidden(page, '#action-start') && await hidden(page, '#action-stop'),
    'no Start or Stop while it backs up');
  check(await page.isDisabled('#backup-now'), 'no second backup while one runs');
  // the list is reloaded when the status moves
  await page.waitForSelector('#backup-list li[data-kind="manual"][data-state="running"]', { timeout: 10000 });
  const rowState = await page.textContent('#backup-list li[data-kind="manual"] .backup-state');
  check(/In progress/.test(rowState), 'the row says it is in progress', rowState);
  await shot(page, 'backups-backing-up');
  release('backup.dump');

  const done = '#backup-list li[data-kind="manual"][data-state="done"]';
  await page.waitForSelector(done, { timeout: 60000 });
  const facts = await page.textContent(`${done} .backup-facts`);
  check(/^Taken by you · \d[\d.,]* (bytes|KB|MB)( · kept until .+)?$/.test(facts.trim()), 'done, with its kind and size in words', facts);
  await waitStatus(page, 'running');
  check(true, 'running again after the backup');
  check(sql(`SELECT count(*) FROM user_lemon_transactions t JOIN users u ON u.id = t.user_id
    WHERE u.email = '${email}' AND t.action_type = 'backup' AND t.amount = -1`) === '1',
  'the backup was paid for once');
  await shot(page, 'backups-done');

  const got = await downloadFrom(page, `${done} [data-act="download"]`);
  check(got.failure === null, 'the download completes', got.failure);
  check(got.bytes.subarray(0, 5).toString() === 'PGDMP', 'the file is a pg_dump archive', got.bytes.subarray(0, 8));
  check(/^bk-db-\d{8}-\d{6}\.dump$/.test(got.name), 'the file is named after the database', got.name);

  inDb(uri, "UPDATE fruit SET name = 'lime'; CREATE TABLE later (x int)");
  check(inDb(uri, 'SELECT name FROM fruit') === 'lime', 'the row changes after the backup');
  await page.click(`${done} [data-act="restore"]`);
  await page.waitForSelector('#restore-backup-dialog[open]');
  const say = (await page.textContent('#restore-backup-text')).replace(/\s+/g, ' ').trim();
  check(say.startsWith(`This replaces all data in ${NAME} with the backup from `) &&
    say.endsWith('The current data is kept as a backup first.'), 'the dialog names what is overwritten', say);
  check(await page.evaluate(() => document.activeElement?.id) === 'restore-backup-cancel',
    'the dialog starts on Cancel');
  await shot(page, 'backups-restore-dialog');
  arm('backup.restore');
  await page.click('#restore-backup-confirm');
  await page.waitForSelector('#restore-backup-dialog', { state: 'hidden' });
  await reached('backup.restore');
  await waitStatus(page, 'restoring');
  const restoringText = (await page.textContent('#detail-status')).trim();
  check(restoringText === 'Restoring…', 'the status says "Restoring…"', restoringText);
  check(await hidden(page, '#action-start') && await hidden(page, '#action-stop') &&
    await hidden(page, '#action-reset'), 'no Start, Stop or password reset while it restores');
  check(await page.isDisabled(`${done} [data-act="restore"]`), 'no second restore meanwhile');
  await shot(page, 'backups-restoring');
  release('backup.restore');

  await waitStatus(page, 'running');
  await page.waitForSelector('#backup-list li[data-kind="pre_restore"][data-state="done"]', { timeout: 30000 });
  check(true, 'running again, the overwritten data kept as a "Before a restore" backup');
  await toastSays(page, new RegExp(`${NAME} is restored from .* and running again`));
  check(true, 'a toast says the restore worked (GET .../restores said done)');
  check(inDb(uri, 'SELECT name FROM fruit') === 'lemon', 'the restored database has the backed-up row');
  check(inDb(uri, "SELECT to_regclass('later') IS NULL") === 't', 'what came after the backup is gone');

  await page.setViewportSize({ width: 375, height: 800 });
  check(!(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)),
    'no horizontal scrolling at 375 px with backups listed');
  await page.locator('#backups-block').scrollIntoViewIfNeeded();
  await shot(page, 'backups-375');
  await page.setViewportSize({ width: 1280, height: 900 });

  // deleted: its last copy waits on the account page
  await page.click('#action-delete');
  await page.fill('#delete-instance-confirm-input', NAME);
  await page.click('#delete-instance-confirm');
  await page.waitForSelector('#instance-empty', { state: 'visible', timeout: 15000 });
  await page.goto(url + '/account.html#backups');
  await page.waitForSelector('#backups li[data-kind="final"]', { timeout: 30000 });
  check(await page.evaluate(() => document.activeElement?.id) === 'final-backups-title',
    '#backups brings the section into view and focus');
  const final = '#backups li[data-kind="final"][data-state="done"]';
  await page.waitForSelector(final, { timeout: 90000 });
  const finalText = await page.textContent(final);
  check(finalText.includes(NAME) && /kept until/.test(finalText), 'the last copy names its database and expiry', finalText);
  await shot(page, 'account-backups');
  const last = await downloadFrom(page, `${final} [data-act="download"]`);
  check(last.failure === null && last.bytes.subarray(0, 5).toString() === 'PGDMP',
    'the last copy downloads', last.failure ?? last.bytes.subarray(0, 8));
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  for (const name of [...armed]) release(name);
  await browser.close();
  finish();
}
