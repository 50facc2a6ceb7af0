// The pages in ui/ in headless Chromium (playwright-core driving Debian's /usr/bin/chromium)
// against the real headless engine, served by the engine itself on VIEWER_PORT: the status page
// is live, the configurator refuses an invalid port and saves a valid one that the engine then
// uses, the command log shows another client's request live and filters it, export gives valid
// JSON lines, a printed job can be re-sent from it to another printer, and without the admin token
// the log is refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startEngine, rawClient, freePort, waitForPort, waitForClosed, SIM_BIN } from '../helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

let browser;
let engine;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  engine = await startEngine();
});
after(async () => {
  await browser?.close();
  await engine?.stop();
});

async function page() {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  return p;
}

test('the status page shows the live state and follows new clients', { timeout: 30000 }, async () => {
  const p = await page();
  await p.goto(engine.url('status.html'));
  await p.waitForSelector('#hero[data-level="ok"]');
  assert.match(await p.textContent('#headline'), /running/i);
  assert.match(await p.textContent('[data-fact="Address"]'), new RegExp(`127\\.0\\.0\\.1:${engine.wsPort}`));
  assert.match(await p.textContent('#modules'), /BASE/);
  const before = await p.textContent('[data-fact="Clients"]');
  const other = await rawClient(engine.wsPort);
  await p.waitForFunction((b) => document.querySelector('[data-fact="Clients"]').textContent !== b, before, { timeout: 10000 });
  assert.match(await p.textContent('[data-fact="Clients"]'), /^2 now/);
  other.close();
  await p.context().close();
});

test('a payment whose outcome nobody knows shows amber in the status window with what to check', { timeout: 60000 }, async () => {
  // A myPOS terminal (pispas-sim) that restarts mid-payment and forgets it: the outcome cannot
  // be known, so the service says so and the status window must keep showing it.
  const sim = spawn(SIM_BIN, ['mypos', '--port', '0', '--scenario', 'restarted'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: sim.stdout }).once('line', resolve);
    sim.once('exit', (c) => reject(new Error(`pispas-sim exited with ${c}`)));
  });
  sim.stdout.resume();
  const uri = line.slice(line.indexOf('=') + 1);
  const till = await startEngine({ MODULES: 'base,mypos', MYPOS: uri });
  try {
    const c = await rawClient(till.wsPort);
    const r = await c.call('MYPOS', 'SALE', { AMOUNT: 4200 });
    assert.equal(r.MESSAGE_DATA.CODE, 'PAYMENT_UNKNOWN_OUTCOME', JSON.stringify(r));
    c.close();
    const p = await page();
    await p.goto(till.url('status.html'));
    const row = p.locator('#payments tr[data-state="UNKNOWN_OUTCOME"]');
    await row.waitFor({ timeout: 15000 });
    assert.match(await row.textContent(), /42\.00/);
    assert.notEqual(await p.getAttribute('#hero', 'data-level'), 'ok', 'an unresolved payment is not "all fine"');
    await p.context().close();
  } finally {
    await till.stop();
    sim.kill('SIGTERM');
  }
});

test('the configurator refuses an invalid port next to the field and writes nothing', { timeout: 30000 }, async () => {
  const envPath = join(engine.dir, '.env');
  const original = readFileSync(envPath, 'utf8');
  const p = await page();
  await p.goto(engine.url(`config.html#token=${engine.token}`));
  await p.waitForSelector('#form:not([hidden]) #f-LOCAL_PORT');
  await p.fill('#f-LOCAL_PORT', '70000');
  await p.click('#save');
  await p.waitForSelector('#error-LOCAL_PORT:not([hidden])');
  assert.match(await p.textContent('#error-LOCAL_PORT'), /out of range/);
  assert.equal(await p.getAttribute('#f-LOCAL_PORT', 'aria-invalid'), 'true');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'f-LOCAL_PORT');
  assert.equal(readFileSync(envPath, 'utf8'), original, 'nothing written');
  await p.fill('#f-LOCAL_PORT', 'abc');
  await p.click('#save');
  await p.waitForFunction(() => /not a port number/.test(document.querySelector('#error-LOCAL_PORT').textContent));
  assert.equal(readFileSync(envPath, 'utf8'), original, 'nothing written');
  await p.context().close();
});

test('the configurator shows the remote gateway keys and its test-connection button answers', { timeout: 30000 }, async () => {
  const p = await page();
  await p.goto(engine.url(`config.html#token=${engine.token}`));
  await p.waitForSelector('#form:not([hidden]) #f-REMOTE_HOST', { timeout: 5000 });
  assert.equal(await p.getAttribute('#f-REMOTE_TOKEN', 'type'), 'password', 'the token is a secret field');
  assert.ok(await p.$('#g-advanced #f-CACHE_MAX_BYTES'), 'keys without a group are under Advanced, so saving keeps them');
  await p.click('#remote-test');
  await p.waitForFunction(() => /REMOTE_HOST is empty/.test(document.querySelector('#remote-note').textContent), null, { timeout: 5000 });
  await p.fill('#f-REMOTE_HOST', '127.0.0.1');
  await p.fill('#f-REMOTE_PORT', '1');
  await p.selectOption('#f-REMOTE_TLS', 'off');
  await p.click('#remote-test');
  await p.waitForFunction(() => /Not connected: .*REMOTE_PORT/.test(document.querySelector('#remote-note').textContent), null, { timeout: 15000 });
  await p.context().close();
});

test('the configurator has a kitchen section with its stations, stages and when chits print', { timeout: 30000 }, async () => {
  const p = await page();
  await p.goto(engine.url(`config.html#token=${engine.token}`));
  await p.waitForSelector('#form:not([hidden]) #g-kitchen #f-KITCHEN_STATIONS', { timeout: 5000 });
  for (const k of ['KITCHEN_STAGES', 'KITCHEN_ALERTS', 'KITCHEN_RETENTION', 'KITCHEN_PRINT_WHEN']) {
    assert.ok(await p.$(`#g-kitchen #f-${k}`), `${k} is in the kitchen section`);
    assert.equal(await p.$(`#g-advanced #f-${k}`), null, `${k} is not also under Advanced`);
  }
  const options = await p.$$eval('#f-KITCHEN_PRINT_WHEN option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, ['', 'always', 'no_display']);
  await p.context().close();
});

test('the configurator saves a valid port and the restarted engine uses it', { timeout: 60000 }, async () => {
  const own = await startEngine();
  const newPort = await freePort();
  const p = await page();
  try {
    await p.goto(own.url(`config.html#token=${own.token}`));
    await p.waitForSelector('#form:not([hidden]) #f-LOCAL_PORT');
    await p.fill('#f-LOCAL_PORT', String(newPort));
    await p.click('#save');
    await p.waitForSelector('#notice[data-saved="restarted"]', { timeout: 30000 });
    await waitForPort(newPort, 5000);
    await waitForClosed(own.wsPort);
    const c = await rawClient(newPort);
    const check = await c.call('BASE', 'CHECK');
    assert.equal(check.MESSAGE_EXEC, 'SUCCESS');
    c.close();
    assert.match(readFileSync(join(own.dir, '.env'), 'utf8'), new RegExp(`LOCAL_PORT=${newPort}`));
    assert.ok(existsSync(join(own.dir, '.env.bak')), 'previous file kept');
    assert.match(await p.inputValue('#f-LOCAL_PORT'), new RegExp(String(newPort)));
    assert.equal(own.child.exitCode, null, 'restarted inside the same process');
  } finally {
    await p.context().close();
    await own.stop();
  }
});

test('the command log shows another client\'s request live and filters it', { timeout: 30000 }, async () => {
  const p = await page();
  await p.goto(engine.url(`log.html#token=${engine.token}`));
  await p.waitForSelector('#view:not([hidden])');
  const pos = await rawClient(engine.wsPort);
  await pos.call('BASE', 'ECHO', { DATA: 'ticket-4711', PASSWORD: 'hunter2-secret' });
  await pos.call('BASE', 'PING');
  const row = p.locator('#rows tr', { hasText: 'ECHO' }).first();
  await row.waitFor({ timeout: 10000 });
  assert.match(await row.textContent(), /127\.0\.0\.1:\d+/, 'the client is the POS connection, not the page');
  assert.match(await row.textContent(), /SUCCESS/);
  await row.click();
  await p.waitForSelector('#detail pre[data-part="request"]');
  const request = await p.textContent('#detail pre[data-part="request"]');
  assert.match(request, /ticket-4711/);
  assert.doesNotMatch(request, /hunter2/, 'secrets are redacted');
  await p.locator('#rows tr', { hasText: 'PING' }).first().waitFor();
  await p.fill('#f-text', 'ticket-4711');
  await p.click('#filters button[type=submit]');
  await p.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#rows tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes('ECHO'));
  });
  await p.fill('#f-text', '');
  await p.selectOption('#f-result', 'FAILURE');
  await pos.call('NOPE', 'X');
  await p.locator('#rows tr', { hasText: 'UNKNOWN_TARGET' }).first().waitFor({ timeout: 10000 });
  assert.equal(await p.locator('#rows tr', { hasText: 'ECHO' }).count(), 0);
  pos.close();
  await p.context().close();
});

test('export gives valid JSON lines of the filtered range', { timeout: 30000 }, async () => {
  const pos = await rawClient(engine.wsPort);
  await pos.call('BASE', 'ECHO', { DATA: 'export-me', CARD_NUMBER: '4111111111111111' });
  const p = await page();
  await p.goto(engine.url(`log.html#token=${engine.token}`));
  await p.waitForSelector('#view:not([hidden])');
  await p.fill('#f-text', 'export-me');
  await p.click('#filters button[type=submit]');
  await p.locator('#rows tr', { hasText: 'ECHO' }).first().waitFor();
  const [download] = await Promise.all([p.waitForEvent('download'), p.click('#export')]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  assert.ok(lines.length >= 1);
  const entries = lines.map((l) => JSON.parse(l));
  assert.ok(entries.every((e) => JSON.stringify(e).includes('export-me')), 'only the filtered range');
  assert.ok(entries.every((e) => e.ID && e.AT && e.TARGET && e.REQUEST));
  assert.doesNotMatch(text, /4111111111111111/, 'card numbers are masked');
  // A time range that ends before the entry exports nothing.
  await p.fill('#f-until', '2000-01-01T00:00:00');
  await p.click('#filters button[type=submit]');
  await p.waitForFunction(() => document.querySelectorAll('#rows tr').length === 0);
  const [empty] = await Promise.all([p.waitForEvent('download'), p.click('#export')]);
  assert.equal(readFileSync(await empty.path(), 'utf8'), '');
  assert.match(download.suggestedFilename(), /\.jsonl$/);
  pos.close();
  await p.context().close();
});

test('a printed job is re-sent from the command log to another printer', { timeout: 60000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'pispas-resend-'));
  const printing = await startEngine({
    MODULES: 'base,print', PRINT_PREWARM: 'false',
    PRINTER_RECEIPT: `file://${join(out, 'receipt.bin')}`, PRINTER_BAR: `file://${join(out, 'bar.bin')}`,
  });
  try {
    const pos = await rawClient(printing.wsPort);
    const r = await pos.call('PRINT', 'PRINT', { PRINTER: 'RECEIPT', FORMAT: 'TEXT', DATA: 'resend-me 4,50 €' });
    assert.equal(r.MESSAGE_DATA.STATE, 'DELIVERED');
    const p = await page();
    await p.goto(printing.url(`log.html#token=${printing.token}`));
    await p.waitForSelector('#view:not([hidden])');
    await p.locator('#rows tr', { hasText: 'PRINT' }).first().click();
    const form = p.locator('#detail form[data-part="resend"]');
    await form.waitFor({ timeout: 10000 });
    assert.match(await form.textContent(), new RegExp(`Print job ${r.MESSAGE_DATA.JOB_ID}`));
    await p.locator('#detail form[data-part="resend"] option[value="BAR"]').waitFor({ state: 'attached' });
    await form.locator('select').selectOption('BAR');
    await form.locator('button').click();
    await p.waitForFunction(() => /DELIVERED/.test(document.querySelector('#detail form[data-part="resend"] [role=status]')?.textContent || ''));
    const bar = readFileSync(join(out, 'bar.bin'));
    assert.ok(bar.includes(Buffer.from('resend-me 4,50 ')), 'the copy went to BAR');
    pos.close();
    await p.context().close();
  } finally {
    await printing.stop();
  }
});

test('without the admin token the command log is refused', { timeout: 30000 }, async () => {
  const p = await page();
  await p.goto(engine.url('log.html'));
  await p.waitForSelector('.token-form');
  assert.equal(await p.isHidden('#view'), true);
  await p.fill('#token', 'not-the-admin-token-0000');
  await p.click('.token-form button');
  await p.waitForSelector('.token-form [role=alert]');
  assert.match(await p.textContent('.token-form [role=alert]'), /refused/i);
  assert.equal(await p.isHidden('#view'), true);
  const anon = await rawClient(engine.wsPort);
  const r = await anon.call('BASE', 'LOG_QUERY');
  assert.equal(r.MESSAGE_EXEC, 'FAILURE');
  assert.equal(r.MESSAGE_DATA.CODE, 'UNAUTHORIZED');
  anon.close();
  await p.context().close();
});

test('the page server answers only to loopback host names (DNS rebinding)', async () => {
  const get = (host) => new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port: engine.viewerPort, path: '/status.html', headers: { Host: host } }, (r) => {
      r.resume();
      res(r.statusCode);
    }).on('error', rej);
  });
  assert.equal(await get(`127.0.0.1:${engine.viewerPort}`), 200);
  assert.equal(await get(`localhost:${engine.viewerPort}`), 200);
  assert.equal(await get(`rebind.attacker.example:${engine.viewerPort}`), 421);
});
