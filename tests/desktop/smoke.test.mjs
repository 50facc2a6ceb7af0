// Smoke test of the real desktop binary. Run under a display and a D-Bus session bus
// (scripts/test.d/desktop.sh: dbus-run-session -- xvfb-run … node --test …): it starts, the
// WebSocket answers CHECK, the status window renders (the screenshot is not blank and its page
// connected to the engine from the app's origin), a second launch exits and leaves the first
// running, and `pispas --quit` (what the tray's Quit does) stops it cleanly with exit code 0.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { APP_BIN, ROOT, freePort, makeConfig, rawClient, waitForPort, waitForClosed, sleep } from '../helpers.mjs';

const OUT = join(ROOT, 'target', 'desktop-smoke');
let app;
let dir;
let wsPort;
let stderr = '';

function launch(args, { capture = false } = {}) {
  const child = spawn(APP_BIN, ['--config', join(dir, '.env'), '--data-dir', join(dir, 'data'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: undefined },
  });
  if (capture) child.stderr.on('data', (d) => { stderr += d; });
  else child.stderr.resume();
  return child;
}

function exited(child, ms) {
  return new Promise((res, rej) => {
    if (child.exitCode !== null) return res(child.exitCode);
    const t = setTimeout(() => rej(new Error(`still running after ${ms} ms`)), ms);
    child.once('exit', (code, signal) => { clearTimeout(t); res(code ?? signal); });
  });
}

/** Unique colours in a screenshot of the whole X display (1 = blank). */
function screenshot(name) {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, name);
  execFileSync('import', ['-display', process.env.DISPLAY, '-window', 'root', file]);
  const colours = Number(execFileSync('convert', [file, '-format', '%k', 'info:']).toString().trim());
  return { file, colours };
}

before(async () => {
  assert.ok(process.env.DISPLAY, 'needs a display: run through scripts/test.d/desktop.sh');
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'needs a D-Bus session bus (single instance)');
  assert.ok(existsSync(APP_BIN), `${APP_BIN} missing: cargo build -p pispas`);
  wsPort = await freePort();
  dir = makeConfig({ LOCAL_PORT: wsPort, VIEWER_PORT: await freePort(), MODULES: 'base,order_kitchen', HEARTBEAT_SECS: 0 });
});

after(async () => {
  if (app && app.exitCode === null) {
    app.kill('SIGKILL');
  }
  if (stderr && process.exitCode) console.error(stderr.slice(-4000));
});

test('the app starts and its WebSocket answers CHECK', { timeout: 60000 }, async () => {
  const t0 = Date.now();
  app = launch([], { capture: true });
  await waitForPort(wsPort, 45000, app);
  console.log(`# launch to listening: ${Date.now() - t0} ms (debug build)`);
  const c = await rawClient(wsPort);
  const check = await c.call('BASE', 'CHECK');
  assert.equal(check.MESSAGE_EXEC, 'SUCCESS');
  assert.equal(check.MESSAGE_DATA.SERVICE, 'pispas-local-service');
  c.close();
});

test('the status window renders and its page talks to the engine', { timeout: 60000 }, async () => {
  const c = await rawClient(wsPort);
  let status;
  for (let i = 0; i < 200; i++) {
    status = (await c.call('BASE', 'STATUS')).MESSAGE_DATA;
    // The page's own connection (origin tauri://localhost) polls STATUS.
    if (status.CONNECTIONS_TOTAL >= 3 && status.REQUESTS_OK >= 3) break;
    await sleep(150);
  }
  assert.ok(status.CONNECTIONS_TOTAL >= 3, `the status page never connected: ${JSON.stringify(status)}`);
  // The first paint can lag the page's scripts on a loaded machine: look for up to 30 s.
  let shot;
  for (let i = 0; i < 60; i++) {
    shot = screenshot('status-window.png');
    if (shot.colours > 16) break;
    await sleep(500);
  }
  console.log(`# screenshot ${shot.file}: ${shot.colours} colours`);
  assert.ok(shot.colours > 16, `the screen is blank (${shot.colours} colours)`);
  c.close();
});

test('a second launch exits and leaves the first running', { timeout: 60000 }, async () => {
  const second = launch([]);
  assert.equal(await exited(second, 30000), 0);
  assert.equal(app.exitCode, null, 'the first instance is still running');
  const c = await rawClient(wsPort);
  assert.equal((await c.call('BASE', 'PING')).MESSAGE_DATA, 'PONG');
  c.close();
});

test('--open kitchen opens the kitchen display window, which subscribes to the tickets', { timeout: 60000 }, async () => {
  const opener = launch(['--open', 'kitchen']);
  assert.equal(await exited(opener, 30000), 0);
  const c = await rawClient(wsPort);
  let status;
  for (let i = 0; i < 150; i++) {
    status = (await c.call('ORDER_KITCHEN', 'STATUS')).MESSAGE_DATA;
    if (status.EXPO_DISPLAYS >= 1) break;
    await sleep(200);
  }
  assert.ok(status.EXPO_DISPLAYS >= 1, `the kitchen window never subscribed: ${JSON.stringify(status)}`);
  const sent = await c.call('ORDER_KITCHEN', 'SEND', { TICKET: 'SMOKE-1', CHANNEL: 'dine-in', LINES: [{ LINE: '1', QTY: 1, NAME: 'Tortilla' }] });
  assert.equal(sent.MESSAGE_EXEC, 'SUCCESS', JSON.stringify(sent));
  // The window covers the whole 1280×800 screen; its first paint can lag its scripts: look for
  // up to 30 s, as for the status window.
  let shot;
  for (let i = 0; i < 60; i++) {
    shot = screenshot('kitchen-window.png');
    if (shot.colours > 16) break;
    await sleep(500);
  }
  console.log(`# screenshot ${shot.file}: ${shot.colours} colours`);
  assert.ok(shot.colours > 16, `the kitchen window is blank (${shot.colours} colours)`);
  c.close();
});

test('Quit stops the engine and exits cleanly', { timeout: 60000 }, async () => {
  const quitter = launch(['--quit']);
  assert.equal(await exited(quitter, 30000), 0);
  assert.equal(await exited(app, 30000), 0, 'the app exits with code 0');
  await waitForClosed(wsPort, 5000);
  assert.match(stderr, /stopped/, 'the engine stopped gracefully');
});

test('a taken port is reported with what to do, and the app takes the port once it is free', { timeout: 90000 }, async () => {
  const net = await import('node:net');
  const port = await freePort();
  const blocker = net.createServer(() => {});
  await new Promise((r) => blocker.listen(port, '127.0.0.1', r));
  const busyDir = makeConfig({ LOCAL_PORT: port, VIEWER_PORT: await freePort(), MODULES: 'base', HEARTBEAT_SECS: 0 });
  let log = '';
  const child = spawn(APP_BIN, ['--config', join(busyDir, '.env'), '--data-dir', join(busyDir, 'data')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => { log += d; });
  try {
    for (let i = 0; i < 100 && !/already in use/.test(log); i++) await sleep(200);
    assert.match(log, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use by another program: close it .* or set LOCAL_PORT to a free port`));
    await sleep(3000);
    assert.equal(child.exitCode, null, 'the app stays up (in the tray, status window open) instead of vanishing');
    const shot = screenshot('port-in-use.png');
    assert.ok(shot.colours > 16, 'the status window shows the problem');
    await new Promise((r) => blocker.close(r));
    await waitForPort(port, 30000, child);
    const c = await rawClient(port);
    assert.equal((await c.call('BASE', 'PING')).MESSAGE_DATA, 'PONG');
    c.close();
  } finally {
    blocker.close();
    const q = spawn(APP_BIN, ['--config', join(busyDir, '.env'), '--data-dir', join(busyDir, 'data'), '--quit'], { stdio: 'ignore' });
    await exited(q, 30000).catch(() => {});
    await exited(child, 30000).catch(() => child.kill('SIGKILL'));
  }
});
