// The SDK (@pispas/local, packages/client) in Node against the real headless engine, as a POS
// back-office script would use it (the `ws` package as its WebSocket): replies matched out of
// order, timeouts, FAILURE codes, wss→ws fallback, reconnect after a restart with subscriptions
// sent again, and diagnose() telling "not running" from "certificate". The same package in a
// real browser is tested by tests/sdk/.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PispasClient, PispasError } from '@pispas/local';
import { startEngine, freePort, WebSocket, sleep } from '../helpers.mjs';

const engine = await startEngine();
after(() => engine.stop());

function client(extra = {}) {
  return new PispasClient({ url: `ws://127.0.0.1:${engine.wsPort}`, WebSocket, minBackoffMs: 50, maxBackoffMs: 300, ...extra });
}

test('replies are matched to their requests whatever order they arrive in', async () => {
  const c = client();
  await c.connect();
  const order = [];
  const slow = c.base.echo({ data: 'slow', delayMs: 400 }).then((d) => (order.push(d), d));
  const fast = c.base.echo({ data: 'fast', delayMs: 0 }).then((d) => (order.push(d), d));
  const many = Promise.all(Array.from({ length: 20 }, (_, i) => c.base.echo({ data: i, delayMs: (20 - i) * 10 })));
  assert.equal(await slow, 'slow');
  assert.equal(await fast, 'fast');
  assert.deepEqual(order, ['fast', 'slow']);
  assert.deepEqual(await many, Array.from({ length: 20 }, (_, i) => i));
  c.close();
});

test('a call without a reply in time fails with CLIENT_TIMEOUT and the connection stays usable', async () => {
  const c = client();
  await c.connect();
  await assert.rejects(c.base.echo({ data: 1, delayMs: 3000 }, { timeoutMs: 150 }), (e) => e instanceof PispasError && e.code === 'CLIENT_TIMEOUT');
  assert.equal(await c.base.ping(), 'PONG');
  c.close();
});

test('a FAILURE reply rejects with its stable code and details', async () => {
  const c = client();
  await c.connect();
  await assert.rejects(c.call('NOPE', 'PING'), (e) => e.code === 'UNKNOWN_TARGET' && Array.isArray(e.details.TARGETS));
  c.close();
});

test('wss first, then ws: with the certificate not trusted the client falls back to ws', async () => {
  const c = client({ url: [`wss://127.0.0.1:${engine.wsPort}`, `ws://127.0.0.1:${engine.wsPort}`] });
  await c.connect();
  assert.match(c.url, /^ws:\/\//);
  assert.equal((await c.base.check()).TLS, false);
  c.close();
});

test('the client reconnects after the service restarts and sends its subscription again', { timeout: 30000 }, async () => {
  const own = await startEngine({ SHUTDOWN_GRACE_MS: 100 });
  const c = new PispasClient({ url: `ws://127.0.0.1:${own.wsPort}`, WebSocket, minBackoffMs: 50, maxBackoffMs: 200 });
  let again = null;
  const sub = c.base.subscribe();
  try {
    await c.connect();
    await sub.ready;
    let beats = 0;
    sub.on(() => beats++);
    const states = [];
    c.on('state', (s) => states.push(s.state));
    const reopened = new Promise((r) => c.on('open', (o) => o.reconnected && r()));
    const cut = assert.rejects(c.base.echo({ delayMs: 5000 }), (e) => e.code === 'DISCONNECTED');
    await own.stop();
    await cut;
    again = await startEngine({ LOCAL_PORT: own.wsPort, VIEWER_PORT: own.viewerPort, HEARTBEAT_SECS: 1 }, { dir: own.dir });
    await reopened;
    assert.equal(await c.base.ping(), 'PONG');
    assert.ok(states.includes('reconnecting'), states.join(','));
    for (let i = 0; i < 40 && beats === 0; i++) await sleep(100);
    assert.ok(beats > 0, 'heartbeat events arrive on the new connection');
  } finally {
    await sub.stop();
    c.close();
    await own.stop();
    await again?.stop();
  }
});

test('with nothing listening connect() rejects at once with SERVICE_NOT_RUNNING', async () => {
  const port = await freePort();
  const c = new PispasClient({ url: `ws://127.0.0.1:${port}`, WebSocket, reconnect: false, probeUrls: [] });
  const e = await c.connect().catch((x) => x);
  assert.equal(e.code, 'CONNECT_FAILED');
  assert.equal(e.diagnosis.code, 'SERVICE_NOT_RUNNING');
});

test('only wss with the engine\'s self-signed certificate → CERTIFICATE_NOT_TRUSTED with the link', async () => {
  const c = new PispasClient({ url: `wss://127.0.0.1:${engine.wsPort}`, WebSocket, reconnect: false });
  const e = await c.connect().catch((x) => x);
  assert.equal(e.diagnosis.code, 'CERTIFICATE_NOT_TRUSTED');
  assert.equal(e.diagnosis.link, `https://127.0.0.1:${engine.wsPort}/`);
});
