// The JavaScript client (ui/js/pispas-client.js) against the real headless engine: replies matched
// out of order, timeouts, reconnecting after the service restarts, wss→ws fallback, FAILURE codes,
// and a Local Network Access block reported as such.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PispasClient, PispasError } from '../../ui/js/pispas-client.js';
import { startEngine, freePort, WebSocket, sleep } from '../helpers.mjs';

const engine = await startEngine();
after(() => engine.stop());

function client(extra = {}) {
  return new PispasClient({ port: engine.wsPort, WebSocket, minBackoffMs: 50, maxBackoffMs: 300, ...extra });
}

test('replies are matched to their requests whatever order they arrive in', async () => {
  const c = client({ scheme: 'ws' });
  await c.connect();
  const order = [];
  const slow = c.request('BASE', 'ECHO', { DATA: 'slow', DELAY_MS: 400 }).then((d) => (order.push(d), d));
  const fast = c.request('BASE', 'ECHO', { DATA: 'fast', DELAY_MS: 0 }).then((d) => (order.push(d), d));
  const many = Promise.all(
    Array.from({ length: 20 }, (_, i) => c.request('BASE', 'ECHO', { DATA: i, DELAY_MS: (20 - i) * 10 })),
  );
  assert.equal(await slow, 'slow');
  assert.equal(await fast, 'fast');
  assert.deepEqual(order, ['fast', 'slow']);
  assert.deepEqual(await many, Array.from({ length: 20 }, (_, i) => i));
  c.close();
});

test('a request without a reply in time fails with TIMEOUT and the connection stays usable', async () => {
  const c = client({ scheme: 'ws' });
  await c.connect();
  await assert.rejects(c.request('BASE', 'ECHO', { DATA: 1, DELAY_MS: 3000 }, { timeoutMs: 150 }), (e) => {
    assert.ok(e instanceof PispasError);
    assert.equal(e.code, 'TIMEOUT');
    return true;
  });
  assert.equal(await c.request('BASE', 'PING'), 'PONG');
  c.close();
});

test('a FAILURE reply rejects with its stable code and details', async () => {
  const c = client({ scheme: 'ws' });
  await c.connect();
  await assert.rejects(c.request('NOPE', 'PING'), (e) => e.code === 'UNKNOWN_TARGET' && Array.isArray(e.details.TARGETS));
  c.close();
});

test('auto mode tries wss first and falls back to ws when the certificate is not trusted', async () => {
  const c = client({ scheme: 'auto' });
  await c.connect();
  assert.match(c.url, /^ws:\/\//);
  assert.equal((await c.request('BASE', 'CHECK')).TLS, false);
  c.close();
});

test('the client reconnects after the service restarts and tells listeners', { timeout: 30000 }, async () => {
  // A short grace so the request in flight is cut by the restart rather than finished.
  const own = await startEngine({ SHUTDOWN_GRACE_MS: 100 });
  const c = new PispasClient({ port: own.wsPort, WebSocket, scheme: 'ws', minBackoffMs: 50, maxBackoffMs: 200 });
  let again = null;
  try {
    await c.connect();
    const states = [];
    c.on('state', (s) => states.push(s.state));
    const reconnected = new Promise((r) => c.on('reconnected', r));
    const cut = assert.rejects(c.request('BASE', 'ECHO', { DELAY_MS: 5000 }), (e) => e.code === 'DISCONNECTED');
    await own.stop();
    await cut;
    again = await startEngine({ LOCAL_PORT: own.wsPort, VIEWER_PORT: own.viewerPort }, { dir: own.dir });
    await reconnected;
    assert.equal(await c.request('BASE', 'PING'), 'PONG');
    assert.ok(states.includes('reconnecting') || states.includes('unreachable'), states.join(','));
    assert.equal(c.state, 'open');
  } finally {
    c.close();
    await own.stop();
    await again?.stop();
  }
});

test('subscriptions are sent again after a reconnect', { timeout: 30000 }, async () => {
  const own = await startEngine();
  const c = new PispasClient({ port: own.wsPort, WebSocket, scheme: 'ws', minBackoffMs: 50, maxBackoffMs: 200 });
  let again = null;
  let stop = () => {};
  try {
    await c.connect();
    let beats = 0;
    stop = c.subscribe('BASE', 'SUBSCRIBE', {}, () => beats++);
    await stop.ready;
    const reconnected = new Promise((r) => c.on('reconnected', r));
    await own.stop();
    again = await startEngine({ LOCAL_PORT: own.wsPort, VIEWER_PORT: own.viewerPort, HEARTBEAT_SECS: 1 }, { dir: own.dir });
    await reconnected;
    const before = beats;
    for (let i = 0; i < 40 && beats === before; i++) await sleep(100);
    assert.ok(beats > before, 'heartbeat events arrive on the new connection');
  } finally {
    stop();
    c.close();
    await own.stop();
    await again?.stop();
  }
});

test('a Local Network Access block is reported as blocked, not as a missing service', async () => {
  const port = await freePort();
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: { permissions: { query: async ({ name }) => ({ state: name === 'loopback-network' ? 'denied' : 'prompt' }) } },
  });
  try {
    const c = new PispasClient({ port, WebSocket, scheme: 'ws', reconnect: false });
    await assert.rejects(c.connect(), (e) => e.code === 'BLOCKED');
    assert.equal(c.state, 'blocked');
    assert.match(c.detail, /Local Network Access/);
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete globalThis.navigator;
  }
});

test('with nothing listening and no block the client says the service is not answering', async () => {
  const port = await freePort();
  const c = new PispasClient({ port, WebSocket, scheme: 'ws', reconnect: false });
  await assert.rejects(c.connect(), (e) => e.code === 'UNREACHABLE');
  assert.match(c.detail, /not answering/);
});
