// The SDK (@pispas/local, its single-file browser build) in headless Chromium (playwright-core
// driving Debian's /usr/bin/chromium) against the real headless engine: every action the
// description lists, through its typed helper, answered as the description records (the list is
// read from protocol/pispas.json, so a new action is tested here without editing this file);
// replies out of order; timeout; abort; reconnect after an engine restart; events; a PRINT
// retried after a dropped socket printing once on the virtual printer; and diagnose(): engine
// stopped, untrusted certificate, origin refused, Local Network Access blocked, and allowed by the
// browser policy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { ROOT, startEngine, freePort, sleep, rawClient } from '../helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];
const TARGET_DIR = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const SIM_BIN = process.env.PISPAS_SIM_BIN || join(TARGET_DIR, 'debug', 'pispas-sim');
const DESCRIPTION = JSON.parse(readFileSync(join(ROOT, 'protocol/pispas.json'), 'utf8'));
const BUILD = join(ROOT, 'packages/client/dist/browser');
const ADMIN_TOKEN = 'browser-test-admin-token-0001-long-enough';
const ALL_MODULES = Object.values(DESCRIPTION.targets).map((t) => t.module).join(',');

/** The page server: a page that loads the SDK's browser build, from its own origin. */
function servePages(port) {
  const files = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>sdk</title><script type="module">import * as Pispas from "/pispas.js"; window.Pispas = Pispas; window.loaded = true;</script>'],
    '/iife.html': ['text/html', '<!doctype html><meta charset="utf-8"><title>iife</title><script src="/pispas.iife.js"></script>'],
    '/pispas.js': ['text/javascript', () => readFileSync(join(BUILD, 'pispas.js'))],
    '/pispas.iife.js': ['text/javascript', () => readFileSync(join(BUILD, 'pispas.iife.js'))],
  };
  const server = http.createServer((req, res) => {
    const f = files[req.url.split('?')[0]];
    if (!f) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' });
    res.end(typeof f[1] === 'function' ? f[1]() : f[1]);
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

let browser;
let pagePort;
let pageOrigin;
let pages;
let engine;

before(async () => {
  pagePort = await freePort();
  pageOrigin = `http://127.0.0.1:${pagePort}`;
  pages = await servePages(pagePort);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  engine = await startEngine({
    MODULES: ALL_MODULES, ADMIN_TOKEN, ALLOWED_ORIGINS: pageOrigin, HEARTBEAT_SECS: 1, PRINT_PREWARM: 'false',
  });
});
after(async () => {
  await browser?.close();
  await engine?.stop();
  pages?.close();
});

/** A page with the SDK loaded; `window.make(options)` builds a client whose sockets are kept in
 * `window.sockets` (so a test can drop one). */
async function sdkPage(b = browser) {
  const context = await b.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${pageOrigin}/`);
  await page.waitForFunction(() => window.loaded === true);
  await page.evaluate(() => {
    window.sockets = [];
    class Tracked extends WebSocket {
      constructor(url) {
        super(url);
        window.sockets.push(this);
      }
    }
    window.make = (options) => new window.Pispas.PispasClient({ WebSocket: Tracked, minBackoffMs: 50, maxBackoffMs: 300, ...options });
  });
  return page;
}

const wsUrl = (port) => `ws://127.0.0.1:${port}`;

// ---------------------------------------------------------------- every described action

const camel = (k) => k.toLowerCase().replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** A sample's wire parameters as the typed helper takes them (camelCase, nested where the SDK
 * converts). */
function helperParams(params, convert = []) {
  const out = {};
  for (const [k, v] of Object.entries(params || {})) {
    out[camel(k)] = convert.includes(k) && v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([ik, iv]) => [camel(ik), iv]))
      : v;
  }
  return out;
}

for (const [target, t] of Object.entries(DESCRIPTION.targets)) {
  const actions = Object.entries(t.actions);
  if (!actions.length) continue;
  test(`every ${target} action is answered through its typed helper as the description records`, { timeout: 60000 }, async () => {
    const page = await sdkPage();
    await page.evaluate(async ({ port, token }) => {
      window.admin = window.make({ url: `ws://127.0.0.1:${port}`, token });
      window.anonymous = window.make({ url: `ws://127.0.0.1:${port}` });
      await Promise.all([window.admin.connect(), window.anonymous.connect()]);
    }, { port: engine.wsPort, token: ADMIN_TOKEN });
    const table = await page.evaluate((T) => window.Pispas.PROTOCOL.targets[T], target);
    for (const [action, spec] of actions) {
      const info = table.actions[action];
      assert.ok(info, `${target} ${action} is in the SDK's generated table`);
      for (const [i, sample] of (spec.samples || []).entries()) {
        const outcome = await page.evaluate(async ({ helper, method, params, anonymous, subscription, event }) => {
          const c = anonymous ? window.anonymous : window.admin;
          const fn = c[helper] && c[helper][method];
          if (typeof fn !== 'function') return { missing: true };
          const seen = event ? new Promise((r) => c.on(event, (ev) => r(ev.data))) : null;
          try {
            let data;
            if (subscription) {
              const sub = fn(params);
              try {
                data = await sub.ready;
              } finally {
                await sub.stop();
              }
            } else data = await fn(params);
            const ev = seen ? await Promise.race([seen, new Promise((r) => setTimeout(() => r(null), 5000))]) : undefined;
            return { code: 'SUCCESS', data, event: ev };
          } catch (e) {
            return { code: e.code, message: e.message, fromService: e.fromService };
          }
        }, {
          helper: table.helper, method: info.helper, params: helperParams(sample.params, info.convert),
          anonymous: sample.as === 'anonymous', subscription: !!info.subscription, event: sample.event,
        });
        const at = `${target} ${action} samples[${i}] via client.${table.helper}.${info.helper}()`;
        assert.ok(!outcome.missing, `${at}: no such helper`);
        assert.ok(sample.expect.includes(outcome.code), `${at}: expected ${sample.expect}, got ${outcome.code} ${outcome.message ?? ''}`);
        if (outcome.code !== 'SUCCESS') assert.equal(outcome.fromService, true, `${at}: a service code`);
        if (sample.event) assert.equal(outcome.event?.EVENT, sample.event, `${at}: the ${sample.event} event`);
      }
    }
    await page.context().close();
  });
}

// ---------------------------------------------------------------- calls

test('replies come back out of order and each reaches its own call', { timeout: 30000 }, async () => {
  const page = await sdkPage();
  const r = await page.evaluate(async (url) => {
    const c = window.make({ url });
    await c.connect();
    const order = [];
    const calls = [400, 0, 250, 50].map((ms) => c.base.echo({ data: ms, delayMs: ms }).then((d) => (order.push(d), d)));
    const results = await Promise.all(calls);
    c.close();
    return { results, order };
  }, wsUrl(engine.wsPort));
  assert.deepEqual(r.results, [400, 0, 250, 50]);
  assert.deepEqual(r.order, [0, 50, 250, 400]);
  await page.context().close();
});

test('a call past its timeout fails with CLIENT_TIMEOUT; an aborted one with ABORTED; the socket stays usable', { timeout: 30000 }, async () => {
  const page = await sdkPage();
  const r = await page.evaluate(async (url) => {
    const c = window.make({ url });
    await c.connect();
    const timedOut = await c.base.echo({ delayMs: 3000 }, { timeoutMs: 200 }).catch((e) => e.code);
    const ac = new AbortController();
    const pending = c.base.echo({ delayMs: 3000 }, { signal: ac.signal }).catch((e) => e.code);
    setTimeout(() => ac.abort(), 100);
    const aborted = await pending;
    const ping = await c.base.ping();
    c.close();
    return { timedOut, aborted, ping };
  }, wsUrl(engine.wsPort));
  assert.deepEqual(r, { timedOut: 'CLIENT_TIMEOUT', aborted: 'ABORTED', ping: 'PONG' });
  await page.context().close();
});

test('heartbeat events arrive through a subscription and as an async iterator, and stop after stop()', { timeout: 30000 }, async () => {
  const page = await sdkPage();
  const r = await page.evaluate(async (url) => {
    const c = window.make({ url });
    await c.connect();
    const sub = c.base.subscribe();
    const reply = await sub.ready;
    const got = [];
    for await (const ev of sub) {
      got.push(ev);
      if (got.length === 2) break;
    }
    await sub.stop();
    let after = 0;
    c.on('HEARTBEAT', () => after++);
    await new Promise((res) => setTimeout(res, 2500));
    c.close();
    return { reply, events: got.map((e) => [e.event, e.target, typeof e.data.UPTIME_MS, e.uuid !== null]), after };
  }, wsUrl(engine.wsPort));
  assert.equal(r.reply.TOPIC, 'BASE');
  assert.deepEqual(r.events, [['HEARTBEAT', 'BASE', 'number', true], ['HEARTBEAT', 'BASE', 'number', true]]);
  assert.equal(r.after, 0, 'UNSUBSCRIBE was sent: no more heartbeats');
  await page.context().close();
});

test('after the engine restarts the client reconnects, sends its subscription again and calls work', { timeout: 60000 }, async () => {
  const own = await startEngine({ ALLOWED_ORIGINS: pageOrigin, HEARTBEAT_SECS: 1, SHUTDOWN_GRACE_MS: 100 });
  let again = null;
  const page = await sdkPage();
  try {
    await page.evaluate(async (url) => {
      window.c = window.make({ url });
      window.states = [];
      window.c.on('state', (s) => window.states.push(s.state));
      window.beats = [];
      window.sub = window.c.base.subscribe();
      window.sub.on((ev) => window.beats.push(ev.uuid));
      await window.c.connect();
      await window.sub.ready;
    }, wsUrl(own.wsPort));
    await page.waitForFunction(() => window.beats.length > 0);
    const held = page.evaluate(() => window.c.base.echo({ data: 'held' }).then((d) => d, (e) => e.code));
    await own.stop();
    await page.waitForFunction(() => window.states.includes('reconnecting'));
    const beatsBefore = await page.evaluate(() => window.beats.length);
    again = await startEngine({ ALLOWED_ORIGINS: pageOrigin, HEARTBEAT_SECS: 1, LOCAL_PORT: own.wsPort, VIEWER_PORT: own.viewerPort }, { dir: own.dir });
    await page.waitForFunction(() => window.c.state === 'open', null, { timeout: 20000 });
    assert.equal(await page.evaluate(() => window.c.base.ping()), 'PONG');
    assert.ok(['held', 'DISCONNECTED'].includes(await held), 'the call in flight ended one way or the other');
    await page.waitForFunction((n) => window.beats.length > n, beatsBefore, { timeout: 10000 });
    const uuids = await page.evaluate(() => [...new Set(window.beats)].length);
    assert.ok(uuids >= 2, 'a new SUBSCRIBE (new UUIDV4) after the reconnect');
    await page.evaluate(() => window.c.close());
  } finally {
    await page.context().close();
    await own.stop();
    await again?.stop();
  }
});

test('a call made while the service is down is held and sent when it is back', { timeout: 60000 }, async () => {
  const own = await startEngine({ ALLOWED_ORIGINS: pageOrigin });
  let again = null;
  const page = await sdkPage();
  try {
    await page.evaluate(async (url) => {
      window.c = window.make({ url });
      await window.c.connect();
    }, wsUrl(own.wsPort));
    await own.stop();
    await page.waitForFunction(() => window.c.state !== 'open');
    await page.evaluate(() => {
      window.held = window.c.base.echo({ data: 'morning' }, { timeoutMs: 30000 }).then((d) => d, (e) => e.code);
    });
    await sleep(500);
    again = await startEngine({ ALLOWED_ORIGINS: pageOrigin, LOCAL_PORT: own.wsPort, VIEWER_PORT: own.viewerPort }, { dir: own.dir });
    assert.equal(await page.evaluate(() => window.held), 'morning');
    await page.evaluate(() => window.c.close());
  } finally {
    await page.context().close();
    await own.stop();
    await again?.stop();
  }
});

// ---------------------------------------------------------------- printing

/** The virtual printer (pispas-sim) as a process: its TCP port, its stdin and its jobs. */
async function startPrinter() {
  const out = mkdtempSync(join(tmpdir(), 'pispas-sdk-printer-'));
  const child = spawn(SIM_BIN, ['printer', '--port', '0', '--out', out], { stdio: ['pipe', 'pipe', 'ignore'] });
  const first = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (c) => reject(new Error(`pispas-sim exited with ${c}`)));
  });
  child.stdout.resume();
  const uri = first.split('=')[1];
  return {
    uri,
    jobs: () => readdirSync(out).filter((f) => /^job-\d+\.txt$/.test(f)).map((f) => readFileSync(join(out, f), 'utf8')),
    command: (line) => child.stdin.write(`${line}\n`),
    stop: () => new Promise((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', r);
      child.kill('SIGTERM');
    }),
  };
}

test('a PRINT whose socket drops before the reply is sent again with the same UUIDV4 and prints once', { timeout: 90000 }, async () => {
  const printer = await startPrinter();
  const own = await startEngine({ MODULES: 'base,print', ALLOWED_ORIGINS: pageOrigin, PRINT_PREWARM: 'false', PRINTER_RECEIPT: printer.uri });
  const page = await sdkPage();
  try {
    // A slow line: the job is still going out when the socket drops.
    printer.command('slow 200');
    const r = await page.evaluate(async (url) => {
      const c = window.make({ url });
      await c.connect();
      const jobEvents = [];
      c.on('JOB', (ev) => jobEvents.push(ev.data.JOB.STATE));
      const text = `ticket ${'x'.repeat(300)} once-only`;
      const print = c.print.print({ printer: 'RECEIPT', format: 'TEXT', data: text });
      await new Promise((res) => setTimeout(res, 300));
      const first = window.sockets.at(-1);
      first.close(); // the connection drops before the reply
      const reply = await print;
      const sent = window.sockets.length;
      c.close();
      return { reply, sent, jobEvents };
    }, wsUrl(own.wsPort));
    assert.ok(r.sent >= 2, 'a second socket carried the retry');
    assert.equal(r.reply.DUPLICATE, true, 'the service recognised the UUIDV4: the retry printed nothing');
    assert.ok(['DELIVERED', 'PRINTING', 'QUEUED'].includes(r.reply.STATE), r.reply.STATE);
    printer.command('slow off');
    for (let i = 0; i < 100 && printer.jobs().length === 0; i++) await sleep(100);
    await sleep(1500); // a second copy, if any, would arrive now
    const jobs = printer.jobs().filter((j) => j.includes('once-only'));
    assert.equal(jobs.length, 1, `printed ${jobs.length} times`);
  } finally {
    await page.context().close();
    await own.stop();
    await printer.stop();
  }
});

test('a print sends JOB events to the page that printed it, up to DELIVERED', { timeout: 60000 }, async () => {
  const printer = await startPrinter();
  const own = await startEngine({ MODULES: 'base,print', ALLOWED_ORIGINS: pageOrigin, PRINT_PREWARM: 'false', PRINTER_RECEIPT: printer.uri });
  const page = await sdkPage();
  try {
    const r = await page.evaluate(async (url) => {
      const c = window.make({ url });
      await c.connect();
      const sub = c.print.subscribe();
      await sub.ready;
      const states = [];
      sub.on((ev) => ev.event === 'JOB' && states.push(ev.data.JOB.STATE));
      const reply = await c.print.print({ printer: 'RECEIPT', format: 'RECEIPT', data: { ITEMS: [{ TYPE: 'TEXT', TEXT: 'Total 5€' }, { TYPE: 'CUT' }] } });
      await new Promise((res) => setTimeout(res, 300));
      await sub.stop();
      c.close();
      return { reply, states };
    }, wsUrl(own.wsPort));
    assert.equal(r.reply.STATE, 'DELIVERED');
    assert.equal(r.reply.DUPLICATE, false);
    assert.ok(r.states.includes('DELIVERED'), r.states.join(','));
  } finally {
    await page.context().close();
    await own.stop();
    await printer.stop();
  }
});

// ---------------------------------------------------------------- diagnose()

test('diagnose: the engine stopped → SERVICE_NOT_RUNNING, and connect() says so instead of waiting', { timeout: 30000 }, async () => {
  const port = await freePort();
  const page = await sdkPage();
  const r = await page.evaluate(async (url) => {
    const c = window.make({ url, reconnect: false, probeUrls: [] });
    const e = await c.connect().catch((x) => x);
    const d = await c.diagnose();
    return { connect: e.code, connectDiagnosis: e.diagnosis.code, code: d.code, message: d.message };
  }, wsUrl(port));
  assert.equal(r.connect, 'CONNECT_FAILED');
  assert.equal(r.connectDiagnosis, 'SERVICE_NOT_RUNNING');
  assert.equal(r.code, 'SERVICE_NOT_RUNNING');
  assert.equal(r.message, DESCRIPTION.diagnose.SERVICE_NOT_RUNNING.cashier);
  await page.context().close();
});

test('diagnose: the engine\'s self-signed certificate, not trusted by the browser → CERTIFICATE_NOT_TRUSTED with the link', { timeout: 30000 }, async () => {
  const page = await sdkPage();
  const r = await page.evaluate(async (url) => {
    const c = window.make({ url, reconnect: false });
    return c.diagnose();
  }, `wss://127.0.0.1:${engine.wsPort}`);
  assert.equal(r.code, 'CERTIFICATE_NOT_TRUSTED');
  assert.equal(r.link, `https://127.0.0.1:${engine.wsPort}/`);
  await page.context().close();
});

test('diagnose: a page the service does not allow → ORIGIN_REFUSED, not "not running"', { timeout: 30000 }, async () => {
  const own = await startEngine({ ALLOWED_ORIGINS: 'https://app.unpispas.es' });
  const page = await sdkPage();
  try {
    const r = await page.evaluate(async ({ url, probe }) => {
      const c = window.make({ url, reconnect: false, probeUrls: [probe] });
      return c.diagnose();
    }, { url: wsUrl(own.wsPort), probe: own.url('endpoint.json') });
    assert.equal(r.code, 'ORIGIN_REFUSED');
  } finally {
    await page.context().close();
    await own.stop();
  }
});

/** A browser in which the page server counts as a public site, so Local Network Access applies
 * to its requests to the engine on loopback. */
function publicPageBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, `--ip-address-space-overrides=127.0.0.1:${pagePort}=public`] });
}

test('diagnose: a public page with Local Network Access denied → LNA_BLOCKED, never "not running"', { timeout: 30000 }, async () => {
  const b = await publicPageBrowser();
  try {
    const cdp = await b.newBrowserCDPSession();
    for (const name of ['local-network-access', 'loopback-network', 'local-network']) {
      // Names this Chromium does not know are refused; headless Chromium also denies the prompt itself.
      await cdp.send('Browser.setPermission', { permission: { name }, setting: 'denied', origin: pageOrigin }).catch(() => {});
    }
    const page = await sdkPage(b);
    const r = await page.evaluate(async (url) => {
      const c = window.make({ url, reconnect: false });
      const e = await c.connect().catch((x) => x);
      const d = await c.diagnose();
      return { connect: e.code, connectDiagnosis: e.diagnosis?.code, code: d.code, permission: d.permission, message: d.message };
    }, wsUrl(engine.wsPort));
    assert.equal(r.connect, 'CONNECT_FAILED');
    assert.equal(r.connectDiagnosis, 'LNA_BLOCKED');
    assert.equal(r.code, 'LNA_BLOCKED');
    assert.equal(r.permission, 'denied');
    assert.equal(r.message, DESCRIPTION.diagnose.LNA_BLOCKED.cashier);
  } finally {
    await b.close();
  }
});

const POLICY_DIR = '/etc/chromium/policies/managed';

/** Whether this process may write Chromium's managed policy folder (root), creating it only
 * when the policy test runs; returns the folders it created, to remove afterwards. */
function preparePolicyDir() {
  const missing = [];
  for (let d = POLICY_DIR; !existsSync(d); d = join(d, '..')) missing.unshift(d);
  try {
    mkdirSync(POLICY_DIR, { recursive: true });
    const probe = join(POLICY_DIR, `.pispas-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return { ok: true, created: missing };
  } catch {
    return { ok: false, created: missing };
  }
}

function removeCreated(created) {
  for (const d of [...created].reverse()) {
    try {
      rmdirSync(d); // only when empty
    } catch {
      /* something else lives there now */
    }
  }
}

const CAN_WRITE_POLICY = (() => {
  try {
    return process.getuid?.() === 0 || existsSync(POLICY_DIR);
  } catch {
    return false;
  }
})();

test('the engine writes the LocalNetworkAccessAllowedForUrls policy, the public page then connects, and the engine removes it', { timeout: 30000, skip: !CAN_WRITE_POLICY && `needs to write ${POLICY_DIR} (run as root)` }, async (t) => {
  const dir = preparePolicyDir();
  if (!dir.ok) {
    removeCreated(dir.created);
    return t.skip(`cannot write ${POLICY_DIR}`);
  }
  // What the configurator's button does: BASE BROWSER_POLICY_SET for ALLOWED_ORIGINS.
  const admin = await rawClient(engine.wsPort, { token: ADMIN_TOKEN });
  let b;
  try {
    const set = await admin.call('BASE', 'BROWSER_POLICY_SET');
    assert.equal(set.MESSAGE_EXEC, 'SUCCESS', JSON.stringify(set));
    const chromium = set.MESSAGE_DATA.POLICY.BROWSERS.find((x) => x.BROWSER === 'Chromium');
    assert.equal(chromium.IN_FORCE, true, JSON.stringify(chromium));
    const file = chromium.LOCATION;
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).LocalNetworkAccessAllowedForUrls, [pageOrigin]);
    b = await publicPageBrowser();
    const page = await sdkPage(b);
    const r = await page.evaluate(async (url) => {
      const c = window.make({ url, reconnect: false });
      await c.connect();
      const d = await c.diagnose();
      const pong = await c.base.ping();
      c.close();
      return { code: d.code, pong };
    }, wsUrl(engine.wsPort));
    assert.equal(r.code, 'CONNECTED');
    assert.equal(r.pong, 'PONG');
    const removed = await admin.call('BASE', 'BROWSER_POLICY_REMOVE');
    assert.equal(removed.MESSAGE_EXEC, 'SUCCESS', JSON.stringify(removed));
    assert.equal(existsSync(file), false, 'the policy file is gone');
    const status = await admin.call('BASE', 'PLATFORM_STATUS');
    assert.equal(status.MESSAGE_DATA.POLICY.BROWSERS.find((x) => x.BROWSER === 'Chromium').IN_FORCE, false);
  } finally {
    await b?.close();
    await admin.call('BASE', 'BROWSER_POLICY_REMOVE').catch(() => {});
    admin.close();
    removeCreated(dir.created);
  }
});

test('the single-file IIFE build defines Pispas.PispasClient for a plain <script> tag', { timeout: 30000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${pageOrigin}/iife.html`);
  const r = await page.evaluate(async (url) => {
    const c = new window.Pispas.PispasClient({ url });
    await c.connect();
    const pong = await c.base.ping();
    c.close();
    return pong;
  }, wsUrl(engine.wsPort));
  assert.equal(r, 'PONG');
  await page.close();
});
