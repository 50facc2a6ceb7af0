// The SDK's timing and state logic against a fake WebSocket and a fake clock: no real sleeps, so
// every timeout, backoff and keep-alive is exact. The real engine in a real browser is tested in
// tests/sdk/ at the top of the repository.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PispasClient, PispasError, PROTOCOL, SERVER_CODES, CLIENT_CODES, DIAGNOSES } from '../dist/esm/index.js';
import { FakeClock, FakeService, fakeClient, settle, defaultHandler } from './fake.mjs';

async function connected(options = {}, setup = () => {}) {
  const clock = new FakeClock();
  const service = new FakeService();
  setup(service);
  const client = fakeClient(PispasClient, service, clock, options);
  const ready = client.connect();
  await clock.advance(0);
  await ready;
  return { clock, service, client };
}

test('replies are matched to their calls by UUIDV4 whatever order they come in', async () => {
  const { service, client } = await connected();
  const a = client.base.echo({ data: 'first' });
  const b = client.base.echo({ data: 'second' });
  await settle();
  const [ra, rb] = service.sent('BASE', 'ECHO');
  assert.notEqual(ra.UUIDV4, rb.UUIDV4);
  rb.socket.reply(rb, 'second');
  ra.socket.reply(ra, 'first');
  assert.equal(await a, 'first');
  assert.equal(await b, 'second');
  client.close();
});

test('a FAILURE rejects with the service\'s CODE, MESSAGE and DETAILS', async () => {
  const { service, client } = await connected();
  const p = client.call('BASE', 'FLY');
  await settle();
  const [req] = service.sent('BASE', 'FLY');
  req.socket.fail(req, 'UNKNOWN_ACTION', 'BASE has no action "FLY"', { ACTIONS: ['PING'] });
  await assert.rejects(p, (e) => e instanceof PispasError && e.code === 'UNKNOWN_ACTION' && e.message === 'BASE has no action "FLY"' && e.details.ACTIONS[0] === 'PING' && e.fromService);
  client.close();
});

test('the typed helpers send UPPER_SNAKE parameters, nested ones where the description has fields', async () => {
  const { service, client } = await connected();
  client.print.print({ printer: 'RECEIPT', format: 'RECEIPT', data: { ITEMS: [{ TYPE: 'CUT' }] }, options: { openDrawer: true, cssWidth: 576 } }).catch(() => {});
  client.print.job({ jobId: 7 }).catch(() => {});
  await settle();
  const [print] = service.sent('PRINT', 'PRINT');
  assert.equal(print.PRINTER, 'RECEIPT');
  assert.deepEqual(print.OPTIONS, { OPEN_DRAWER: true, CSS_WIDTH: 576 });
  assert.deepEqual(print.DATA, { ITEMS: [{ TYPE: 'CUT' }] }, 'documents are passed as they are');
  assert.equal(service.sent('PRINT', 'JOB')[0].JOB_ID, 7);
  client.close();
});

test('every described action has a typed helper, and subscriptions return a subscription', async () => {
  const { client } = await connected();
  for (const [target, t] of Object.entries(PROTOCOL.targets)) {
    for (const [action, a] of Object.entries(t.actions)) {
      assert.equal(typeof client[t.helper]?.[a.helper], 'function', `${target} ${action} → client.${t.helper}.${a.helper}`);
    }
  }
  client.close();
});

test('a call without a reply fails with CLIENT_TIMEOUT at its timeout, not before', async () => {
  const { clock, service, client } = await connected({ keepAliveMs: 0 });
  let outcome = null;
  client.base.echo({ delayMs: 5000 }, { timeoutMs: 1000 }).catch((e) => (outcome = e));
  await clock.advance(999);
  assert.equal(outcome, null);
  await clock.advance(1);
  assert.equal(outcome.code, 'CLIENT_TIMEOUT');
  assert.equal(service.sent('BASE', 'ECHO').length, 1);
  client.close();
});

test('the default timeout of a print is longer than the service\'s own PRINT_REPLY_TIMEOUT_MS, as configured', async () => {
  const { clock, client } = await connected({ keepAliveMs: 0 }, (s) => {
    s.handler = (req) => (req.ACTION === 'CONFIG' ? { PRINT_REPLY_TIMEOUT_MS: '120000' } : defaultHandler(req));
  });
  assert.ok(client.defaultTimeout('PRINT', 'PRINT') > 120000, `${client.defaultTimeout('PRINT', 'PRINT')}`);
  let outcome = null;
  client.print.print({ format: 'TEXT', data: 'x' }).catch((e) => (outcome = e));
  await clock.advance(120000);
  assert.equal(outcome, null, 'still waiting when the service would answer');
  await clock.advance(20000);
  assert.equal(outcome?.code, 'CLIENT_TIMEOUT');
  // Without CONFIG the description's default (30 s) is the floor.
  const fresh = new PispasClient({ WebSocket: class {}, watchPage: false });
  assert.ok(fresh.defaultTimeout('PRINT', 'PRINT') > 30000);
  assert.ok(fresh.defaultTimeout('SCALE', 'READ', { TIMEOUT: 20000 }) > 20000);
  assert.ok(fresh.defaultTimeout('BASE', 'ECHO', { DELAY_MS: 50000 }) > 50000);
  client.close();
});

test('an AbortSignal rejects the call with ABORTED and a late reply is ignored', async () => {
  const { service, client } = await connected();
  const ac = new AbortController();
  const p = client.base.echo({ data: 1 }, { signal: ac.signal });
  await settle();
  ac.abort();
  await assert.rejects(p, (e) => e.code === 'ABORTED');
  const [req] = service.sent('BASE', 'ECHO');
  req.socket.reply(req, 1);
  await assert.rejects(client.base.echo({}, { signal: ac.signal }), (e) => e.code === 'ABORTED', 'an aborted signal stops a call before it is sent');
  assert.equal(service.sent('BASE', 'ECHO').length, 1);
  client.close();
});

test('after a drop a print in flight is sent again with the same UUIDV4; an echo fails with DISCONNECTED', async () => {
  const { clock, service, client } = await connected({ keepAliveMs: 0 });
  const print = client.print.print({ printer: 'RECEIPT', format: 'TEXT', data: 'once' });
  const echo = client.base.echo({ data: 'maybe' });
  await settle();
  const [first] = service.sent('PRINT', 'PRINT');
  first.socket.drop();
  await assert.rejects(echo, (e) => e.code === 'DISCONNECTED');
  await clock.advance(1000);
  assert.equal(service.open.length, 1, 'reconnected');
  const prints = service.sent('PRINT', 'PRINT');
  assert.equal(prints.length, 2);
  assert.equal(prints[1].UUIDV4, first.UUIDV4, 'same UUIDV4: the service answers the first job');
  assert.notEqual(prints[1].socket, first.socket);
  assert.equal(service.sent('BASE', 'ECHO').length, 1, 'the echo was not resent');
  prints[1].socket.reply(prints[1], { JOB_ID: 1, STATE: 'DELIVERED', DUPLICATE: true });
  assert.equal((await print).DUPLICATE, true);
  client.close();
});

test('reconnect backs off: from minBackoffMs, doubling, to maxBackoffMs, with jitter', async () => {
  const { clock, service, client } = await connected({ minBackoffMs: 250, maxBackoffMs: 2000, keepAliveMs: 0 });
  const attempts = [];
  service.mode = () => {
    attempts.push(clock.now());
    return 'refuse';
  };
  const droppedAt = clock.now();
  service.open[0].drop();
  await clock.advance(12000);
  const gaps = attempts.map((t, i) => t - (i ? attempts[i - 1] : droppedAt));
  // random() = 0.5 → ¾ of each ceiling: 250·2^n, capped at 2000.
  assert.deepEqual(gaps.slice(0, 6), [187.5, 375, 750, 1500, 1500, 1500]);
  client.close();
});

test('a call made while reconnecting is held and sent on reconnect, with its timeout running', async () => {
  const { clock, service, client } = await connected({ keepAliveMs: 0, minBackoffMs: 1000, maxBackoffMs: 1000 });
  service.mode = () => 'refuse';
  service.open[0].drop();
  await settle();
  assert.equal(client.state, 'reconnecting');
  const held = client.base.echo({ data: 'held' });
  let lateOutcome = null;
  client.base.echo({ data: 'late' }, { timeoutMs: 500 }).catch((e) => (lateOutcome = e));
  await clock.advance(600);
  assert.equal(lateOutcome?.code, 'CLIENT_TIMEOUT', 'a held call still times out');
  assert.equal(service.sent('BASE', 'ECHO').length, 0, 'nothing sent while disconnected');
  service.mode = () => 'open';
  await clock.advance(2000);
  const sent = service.sent('BASE', 'ECHO');
  assert.equal(sent.length, 1, 'only the call still waiting is sent');
  sent[0].socket.reply(sent[0], 'held');
  assert.equal(await held, 'held');
  client.close();
});

test('at most maxHeld calls are held; more fail with QUEUE_FULL', async () => {
  const { service, client } = await connected({ keepAliveMs: 0, maxHeld: 2 });
  service.mode = () => 'refuse';
  service.open[0].drop();
  await settle();
  client.base.ping().catch(() => {});
  client.base.ping().catch(() => {});
  await assert.rejects(client.base.ping(), (e) => e.code === 'QUEUE_FULL');
  client.close();
});

test('keep-alive: a PING after silence, and a socket that does not answer it is replaced', async () => {
  const { clock, service, client } = await connected({ keepAliveMs: 1000, keepAliveTimeoutMs: 500, minBackoffMs: 100, maxBackoffMs: 100 });
  const first = service.open[0];
  await clock.advance(1000);
  assert.equal(service.sent('BASE', 'PING').length, 1, 'a PING after a second of silence');
  await clock.advance(1000);
  assert.equal(service.sent('BASE', 'PING').length, 2, 'answered: the next one a second later');
  service.handler = () => undefined; // half-open: nothing comes back any more
  const inflight = client.base.echo({ data: 'lost' }).catch((e) => e);
  await clock.advance(1000 + 500);
  assert.equal((await inflight).code, 'DISCONNECTED');
  service.handler = defaultHandler;
  await clock.advance(200);
  assert.equal(first.readyState, 3, 'the dead socket was closed');
  assert.equal(service.open.length, 1);
  assert.notEqual(service.open[0], first, 'a new socket');
  assert.equal(client.state, 'open');
  client.close();
});

test('a subscription made before connect is sent on connect, again after a reconnect, and its events arrive', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.handler = (req) => (req.ACTION === 'SUBSCRIBE' ? { TOPIC: 'BASE', PERIOD_SECS: 1 } : defaultHandler(req));
  const client = fakeClient(PispasClient, service, clock, { keepAliveMs: 0 });
  const sub = client.base.subscribe();
  const seen = [];
  sub.on((ev) => seen.push(ev.data.UPTIME_MS));
  await clock.advance(10);
  assert.equal(service.sent('BASE', 'SUBSCRIBE').length, 0, 'not connected yet');
  client.connect();
  await clock.advance(0);
  const [s1] = service.sent('BASE', 'SUBSCRIBE');
  assert.ok(s1, 'sent on connect');
  assert.deepEqual(await sub.ready, { TOPIC: 'BASE', PERIOD_SECS: 1 });
  s1.socket.event(s1.UUIDV4, { EVENT: 'HEARTBEAT', UPTIME_MS: 1, CONNECTIONS: 1 });
  s1.socket.drop();
  await clock.advance(1000);
  const s2 = service.sent('BASE', 'SUBSCRIBE')[1];
  assert.ok(s2, 'sent again after the reconnect');
  s1.socket.event(s1.UUIDV4, { EVENT: 'HEARTBEAT', UPTIME_MS: 99 }); // the old socket is gone
  s2.socket.event(s2.UUIDV4, { EVENT: 'HEARTBEAT', UPTIME_MS: 2, CONNECTIONS: 1 });
  assert.deepEqual(seen, [1, 2]);
  client.close();
});

test('stopping a subscription sends its UNSUBSCRIBE with the same parameters, once the last listener stops', async () => {
  const { service, client } = await connected({ keepAliveMs: 0 }, (s) => {
    s.handler = (req) => (req.ACTION.includes('SUBSCRIBE') ? { SCALE: 'DELI', TOPIC: 'SCALE:DELI', WAS_SUBSCRIBED: true } : defaultHandler(req));
  });
  const a = client.scale.subscribe({ scale: 'DELI' });
  const b = client.scale.subscribe({ scale: 'DELI' });
  await a.ready;
  assert.equal(service.sent('SCALE', 'SUBSCRIBE').length, 1, 'one server subscription for both');
  const weights = [];
  const it = b[Symbol.asyncIterator]();
  const [sub] = service.sent('SCALE', 'SUBSCRIBE');
  sub.socket.event(sub.UUIDV4, { EVENT: 'WEIGHT', SCALE: 'DELI', STABLE: true, GRAMS: 316 }, 'SCALE');
  weights.push((await it.next()).value.data.GRAMS);
  assert.deepEqual(weights, [316]);
  await a.stop();
  assert.equal(service.sent('SCALE', 'UNSUBSCRIBE').length, 0, 'b still listens');
  await b.stop();
  const [unsub] = service.sent('SCALE', 'UNSUBSCRIBE');
  assert.ok(unsub, 'UNSUBSCRIBE sent');
  assert.equal(unsub.SCALE, 'DELI');
  assert.equal((await it.next()).done, true, 'the iterator ends');
  client.close();
});

test('stopping and at once subscribing again to the same thing never leaves it unsubscribed', async () => {
  const { service, client } = await connected({ keepAliveMs: 0 }, (s) => {
    s.handler = (req) => (req.ACTION.includes('SUBSCRIBE') ? { TOPIC: 'LOG' } : defaultHandler(req));
  });
  const first = client.base.logSubscribe();
  await first.ready;
  first.stop();
  const second = client.base.logSubscribe();
  await second.ready;
  await settle();
  const order = service.requests.filter((r) => r.ACTION.startsWith('LOG_')).map((r) => r.ACTION);
  assert.equal(order.at(-1), 'LOG_SUBSCRIBE', order.join(','));
  const third = client.base.logSubscribe();
  await second.stop();
  await third.stop();
  const after = service.requests.filter((r) => r.ACTION.startsWith('LOG_')).map((r) => r.ACTION);
  assert.equal(after.at(-1), 'LOG_UNSUBSCRIBE', 'the last stop ends it');
  client.close();
});

test('connect() rejects with a diagnosis instead of waiting forever, and keeps trying', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'refuse';
  const client = fakeClient(PispasClient, service, clock, { keepAliveMs: 0, minBackoffMs: 100, maxBackoffMs: 100 });
  const p = client.connect().catch((x) => x);
  await clock.advance(0);
  const e = await p;
  assert.equal(e.code, 'CONNECT_FAILED');
  assert.equal(e.diagnosis.code, 'SERVICE_NOT_RUNNING');
  assert.equal(e.message, DIAGNOSES.SERVICE_NOT_RUNNING.cashier);
  const held = client.base.ping();
  service.mode = () => 'open';
  await clock.advance(200);
  assert.equal(client.state, 'open');
  assert.equal(await held, 'PONG', 'a call made while it kept trying went out once connected');
  client.close();
});

test('a hanging socket is given up after connectTimeoutMs', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'hang';
  const client = fakeClient(PispasClient, service, clock, { connectTimeoutMs: 3000, reconnect: false });
  let outcome = null;
  client.connect().catch((e) => (outcome = e));
  await clock.advance(2999);
  assert.equal(outcome, null);
  await clock.advance(1);
  assert.equal(outcome?.diagnosis.code, 'SERVICE_NOT_RUNNING');
});

test('diagnose: Local Network Access denied is reported as blocked, never as not running', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'refuse';
  const permissions = { query: async ({ name }) => { if (name === 'local-network-access') return { state: 'denied' }; throw new TypeError('unknown'); } };
  const client = fakeClient(PispasClient, service, clock, { reconnect: false, permissions });
  const e = await client.connect().catch((x) => x);
  assert.equal(e.diagnosis.code, 'LNA_BLOCKED');
  assert.equal(e.diagnosis.permission, 'denied');
  assert.equal((await client.diagnose()).code, 'LNA_BLOCKED');
});

test('diagnose: the permission is asked again after the attempt, which may have made the browser block it', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'refuse';
  let asked = 0;
  const permissions = { query: async () => ({ state: asked++ < 3 ? 'prompt' : 'denied' }) };
  const client = fakeClient(PispasClient, service, clock, { reconnect: false, permissions });
  const e = await client.connect().catch((x) => x);
  assert.equal(e.diagnosis.code, 'LNA_BLOCKED');
});

test('diagnose: a prompt nobody answered is LNA_PROMPT, and the waiting socket is used once allowed', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'hang';
  const permissions = { query: async ({ name }) => (name === 'loopback-network' ? { state: 'prompt' } : Promise.reject(new TypeError('unknown'))) };
  const client = fakeClient(PispasClient, service, clock, { connectTimeoutMs: 2000, keepAliveMs: 0, permissions });
  const p = client.connect().catch((x) => x);
  await clock.advance(2000);
  const e = await p;
  assert.equal(e.diagnosis.code, 'LNA_PROMPT');
  assert.equal(service.sockets.length, 1);
  assert.equal(service.sockets[0].readyState, 0, 'the socket waiting for the prompt is kept open');
  await clock.advance(60000);
  assert.equal(service.sockets.length, 1, 'no new attempts pile up while the cashier is asked');
  service.sockets[0].open();
  await settle();
  assert.equal(client.state, 'open');
  assert.equal(await client.base.ping(), 'PONG');
  client.close();
});

test('diagnose: the TLS address fails while the plain one on the same port opens → certificate, with the link', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = (url) => (url.startsWith('wss:') ? 'refuse' : 'open');
  const client = fakeClient(PispasClient, service, clock, { url: 'wss://local.unpispas.es:5005', reconnect: false });
  const d = await client.diagnose();
  assert.equal(d.code, 'CERTIFICATE_NOT_TRUSTED');
  assert.equal(d.link, 'https://local.unpispas.es:5005/');
  assert.ok(service.sockets.some((s) => s.url === 'ws://127.0.0.1:5005/'), 'the plain sibling on 127.0.0.1 was tried');
});

test('diagnose: refused while something answers HTTP → origin refused; a 403 from Node\'s ws too', async () => {
  const clock = new FakeClock();
  const service = new FakeService();
  service.mode = () => 'refuse';
  const client = fakeClient(PispasClient, service, clock, { reconnect: false, probeUrls: ['http://127.0.0.1:8081/endpoint.json'], fetch: async (url) => (url.includes('8081') ? {} : Promise.reject(new Error('no'))) });
  assert.equal((await client.diagnose()).code, 'ORIGIN_REFUSED');
  service.mode = () => ({ error: 'Unexpected server response: 403' });
  const other = fakeClient(PispasClient, service, clock, { reconnect: false });
  assert.equal((await other.diagnose()).code, 'ORIGIN_REFUSED');
});

test('diagnose when connected pings and says CONNECTED with the URL', async () => {
  const { client } = await connected();
  const d = await client.diagnose();
  assert.equal(d.code, 'CONNECTED');
  assert.equal(d.url, 'ws://127.0.0.1:5005');
  client.close();
});

test('wake() (tab visible again, network back) reconnects at once instead of waiting for the backoff', async () => {
  const { clock, service, client } = await connected({ keepAliveMs: 0, minBackoffMs: 60000, maxBackoffMs: 60000 });
  service.mode = () => 'refuse';
  service.open[0].drop();
  await clock.advance(0);
  service.mode = () => 'open';
  await clock.advance(1000);
  assert.equal(client.state, 'reconnecting', 'waiting for the backoff');
  client.wake();
  await clock.advance(0);
  assert.equal(client.state, 'open');
  client.close();
});

test('the client\'s own codes never reuse a service code', () => {
  for (const code of Object.keys(CLIENT_CODES)) assert.ok(!SERVER_CODES.includes(code), code);
  for (const code of Object.keys(DIAGNOSES)) assert.ok(!SERVER_CODES.includes(code), code);
});

test('calls before connect() and after close() fail at once with NOT_CONNECTED and CLOSED', async () => {
  const client = new PispasClient({ WebSocket: new FakeService().WebSocket, watchPage: false });
  await assert.rejects(client.base.ping(), (e) => e.code === 'NOT_CONNECTED');
  const { client: c2, service } = await connected();
  const waiting = c2.base.echo({ data: 1 });
  await settle();
  c2.close();
  await assert.rejects(waiting, (e) => e.code === 'CLOSED');
  await assert.rejects(c2.base.ping(), (e) => e.code === 'CLOSED');
  assert.equal(service.open.length, 0);
});
