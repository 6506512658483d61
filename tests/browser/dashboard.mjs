// The dashboard: create a Redis database from the wizard, copy its
// connection string from the one-time dialog, see it become running (the
// test runs the jobs in a loop meanwhile), stop it, start it, delete it.
import { launch, url, check, shot, enterCode, finish } from './lib.mjs';

const email = process.argv[2];

async function waitStatus(page, status) {
  await page.waitForFunction((s) =>
    document.querySelector('#detail-status')?.getAttribute('data-status') === s,
  status, { timeout: 30000 });
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  const page = await context.newPage();
  await page.goto(url + '/dashboard.html');
  await enterCode(page, email, '#dashboard-login-button');
  await page.waitForSelector('#new-instance', { state: 'visible' });
  await page.click('#new-instance');
  await page.fill('#create-name', 'My Cache');
  check((await page.inputValue('#create-name')) === 'my cache', 'the name is lower-cased as you type',
    await page.inputValue('#create-name'));
  check(await page.isVisible('#create-name-error'), 'a bad name is explained as you type');
  await page.fill('#create-name', 'my-cache');
  await page.click('label.preset-card[data-preset-id="redis-standalone-tiny"]');
  await shot(page, 'dashboard-wizard');
  const created = page.waitForResponse((r) => r.request().method() === 'POST' &&
    new URL(r.url()).pathname === '/api/db/instances');
  await page.click('#create-submit');
  // the click's trace: test_browser.py follows it to the ready mail
  const traceId = (await created).headers()['x-trace-id'] || '';
  check(/^[0-9a-f]{32}$/.test(traceId), 'the answer names its trace', traceId);
  console.log(`wizard trace: ${traceId}`);
  await page.waitForSelector('#credentials-dialog[open]');
  check(await page.isVisible('#credentials-warning'), 'the dialog warns it is shown once');
  const uri = (await page.textContent('#credentials-uri')).trim();
  check(uri.startsWith('rediss://admin:'), 'a ready connection string, TLS (rediss://)', uri);
  const verify = (await page.textContent('#credentials-uri-verify')).trim();
  check(verify.startsWith('rediss://admin:'), 'the verifying string in the dialog', verify);
  check((await page.getAttribute('#credentials-ca', 'href')) === '/api/db/ca.pem',
    'the dialog links the CA certificate');
  await page.click('.copy-button[data-copy-target="credentials-uri"]');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === uri, 'the copy button copies the connection string', copied);
  await shot(page, 'dashboard-credentials');
  await page.click('#credentials-done');
  await page.click('.instance-item .instance-link');
  await waitStatus(page, 'running');
  check(true, 'it becomes running by itself');
  await shot(page, 'dashboard-running');
  check(await page.isVisible('#detail-tls'), 'a TLS badge next to the connection string',
    await page.textContent('#detail-tls'));
  check((await page.getAttribute('#detail-ca', 'href')) === '/api/db/ca.pem' &&
    (await page.getAttribute('#detail-ca', 'download')) === 'dbtree-ca.pem',
    'a "Download CA certificate" link');
  const ca = await page.request.get(url + '/api/db/ca.pem');
  check(ca.status() === 200 && (await ca.text()).startsWith('-----BEGIN CERTIFICATE-----'),
    'the link gives the CA certificate', ca.status());
  const template = (await page.textContent('#detail-uri-verify')).trim();
  check(template.startsWith('rediss://admin:{PASSWORD}@'), 'the verifying template', template);
  await page.click('#detail-uri-verify-copy');
  check((await page.evaluate(() => navigator.clipboard.readText())) === template,
    'its copy button copies it');
  await page.click('#action-stop');
  await waitStatus(page, 'stopped');
  check(true, 'stop');
  await page.click('#action-start');
  await waitStatus(page, 'running');
  check(true, 'start');
  await page.click('#action-delete');
  await page.fill('#delete-instance-confirm-input', 'my-cache');
  await page.click('#delete-instance-confirm');
  await page.waitForSelector('#instance-empty', { state: 'visible', timeout: 15000 });
  check(true, 'deleted: the list is empty again');
  await page.setViewportSize({ width: 375, height: 800 });
  check(!(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)),
    'no horizontal scrolling at 375 px');
  await shot(page, 'dashboard-375');
} catch (e) {
  check(false, 'scenario ran to the end', e.stack);
} finally {
  await browser.close();
  finish();
}
