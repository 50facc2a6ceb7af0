// The kitchen display (ui/kitchen.html) in headless Chromium against the real headless engine:
// a ticket a POS client sends appears on two displays, a line tapped done and a bump reach the
// POS as KITCHEN events, recall brings the card back, a reload keeps the state, UPDATE and VOID
// are shown as such, lines are routed to their station, and the bump-bar keys bump.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startEngine, freePort, WebSocket } from '../helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

let browser;
let engine;
let pos;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  engine = await startEngine({ MODULES: 'base,order_kitchen', KITCHEN_STATIONS: 'GRILL,BAR', KITCHEN_ROUTE_DRINKS: 'BAR' });
  pos = await posClient(engine.wsPort);
});
after(async () => {
  pos?.close();
  await browser?.close();
  await engine?.stop();
});

/** A POS: calls, and every KITCHEN event it hears, waited on by predicate. */
async function posClient(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let n = 0;
  const replies = new Map();
  const events = [];
  const waiting = new Set();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.MESSAGE_TYPE === 'RESPONSE') replies.get(m.MESSAGE_UUID)?.(m);
    else if (m.MESSAGE_DATA?.EVENT === 'KITCHEN') {
      events.push(m);
      for (const w of waiting) w();
    }
  });
  return {
    events,
    call(action, params = {}) {
      const id = `pos-${process.pid}-${++n}`;
      ws.send(JSON.stringify({ UUIDV4: id, TARGET: 'ORDER_KITCHEN', ACTION: action, ...params }));
      return new Promise((res) => replies.set(id, (m) => { replies.delete(id); res(m); }));
    },
    event(pred) {
      return new Promise((res) => {
        const check = () => {
          const e = events.find(pred);
          if (e) { waiting.delete(check); res(e); }
        };
        waiting.add(check);
        check();
      });
    },
    close() { ws.close(); },
  };
}

async function display(query = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(engine.url(`kitchen${query}`));
  await p.waitForFunction(() => window.__kitchen && window.__kitchen.lastSeq !== null);
  return p;
}

const ticket = (id, extra = {}) => ({
  TICKET: id, TABLE: '12', ORDER: `O-${id}`,
  LINES: [
    { LINE: '1', QTY: 2, NAME: 'Burger', MODIFIERS: ['no onion'], ALLERGENS: ['gluten'] },
    { LINE: '2', QTY: 1, NAME: 'Cola', CATEGORY: 'drinks' },
  ],
  ...extra,
});

test('a ticket shows on two displays; a line done, a bump and a recall go through', { timeout: 60000 }, async () => {
  const expo = await display('?name=EXPO-1&station=EXPO');
  const grill = await display('?name=GRILL-1&station=GRILL');
  const sent = await pos.call('SEND', ticket('W1'));
  assert.equal(sent.MESSAGE_EXEC, 'SUCCESS');
  await expo.waitForSelector('.card[data-ticket="W1"]');
  await grill.waitForSelector('.card[data-ticket="W1"]');
  assert.equal(await expo.locator('.card[data-ticket="W1"] li').count(), 2, 'expo shows every station');
  assert.equal(await grill.locator('.card[data-ticket="W1"] li').count(), 1, 'the grill sees its line only');
  assert.match(await grill.textContent('.card[data-ticket="W1"]'), /Burger[\s\S]*no onion[\s\S]*gluten/);

  await grill.click('.card[data-ticket="W1"] li[data-line="1"]');
  const done = await pos.event((e) => e.MESSAGE_DATA.ACTION === 'LINE_DONE' && e.MESSAGE_DATA.TICKET === 'W1');
  assert.equal(done.MESSAGE_DATA.BY, 'GRILL-1');
  assert.equal(done.MESSAGE_UUID, `pos-${process.pid}-1`, 'the POS hears it under its SEND');
  await expo.waitForSelector('.card[data-ticket="W1"] li[data-line="1"].done');

  await grill.click('.card[data-ticket="W1"] header');
  const bumped = await pos.event((e) => e.MESSAGE_DATA.ACTION === 'BUMPED' && e.MESSAGE_DATA.TICKET === 'W1');
  assert.equal(bumped.MESSAGE_DATA.STAGE, 'PREPARING');
  await grill.click('.card[data-ticket="W1"] header');
  await grill.click('.card[data-ticket="W1"] header');
  await pos.event((e) => e.MESSAGE_DATA.ACTION === 'SERVED' && e.MESSAGE_DATA.TICKET === 'W1');
  await expo.waitForSelector('.card[data-ticket="W1"]', { state: 'detached' });

  await grill.click('#recall');
  await pos.event((e) => e.MESSAGE_DATA.ACTION === 'RECALLED' && e.MESSAGE_DATA.TICKET === 'W1');
  await expo.waitForSelector('.card[data-ticket="W1"]');

  // A reload keeps the state: it comes from the engine.
  await expo.reload();
  await expo.waitForSelector('.card[data-ticket="W1"] li[data-line="1"].done');
  await pos.call('SERVE', { TICKET: 'W1' });
  await expo.waitForSelector('.card[data-ticket="W1"]', { state: 'detached' });
  await expo.context().close();
  await grill.context().close();
});

test('updates and voids are shown as such and need a tap', { timeout: 60000 }, async () => {
  const p = await display('?name=EXPO-2&station=EXPO');
  await pos.call('SEND', ticket('W2'));
  await p.waitForSelector('.card[data-ticket="W2"]');
  await pos.call('UPDATE', { TICKET: 'W2', LINES: [{ LINE: '1', CANCEL_QTY: 1 }, { LINE: '3', QTY: 1, NAME: 'Fries' }] });
  await p.waitForSelector('.card[data-ticket="W2"] li[data-line="3"].changed');
  assert.match(await p.textContent('.card[data-ticket="W2"] li[data-line="1"]'), /CANCELLED/);
  assert.match(await p.textContent('.card[data-ticket="W2"] li[data-line="3"]'), /ADDED/);
  await p.click('.card[data-ticket="W2"] li[data-line="3"]');
  await pos.event((e) => e.MESSAGE_DATA.ACTION === 'ACKED' && e.MESSAGE_DATA.TICKET === 'W2');
  await p.waitForSelector('.card[data-ticket="W2"] li[data-line="3"]:not(.changed)');
  await pos.call('VOID', { TICKET: 'W2' });
  await p.waitForSelector('.card.voided[data-ticket="W2"]');
  await p.click('.card[data-ticket="W2"] .void-ack');
  await p.waitForSelector('.card[data-ticket="W2"]', { state: 'detached' });
  await p.context().close();
});

test('the bump-bar keys select and bump a card, and recall it', { timeout: 60000 }, async () => {
  const p = await display('?name=BAR-1&station=BAR');
  await pos.call('SEND', ticket('W3'));
  await pos.call('SEND', ticket('W4'));
  await p.waitForSelector('.card[data-ticket="W4"]');
  await p.keyboard.press('2');
  await p.waitForSelector('.card.selected[data-ticket="W4"]');
  await p.keyboard.press('Enter');
  const e = await pos.event((x) => x.MESSAGE_DATA.ACTION === 'BUMPED' && x.MESSAGE_DATA.TICKET === 'W4');
  assert.equal(e.MESSAGE_DATA.BY, 'BAR-1');
  await p.keyboard.press('.');
  await pos.event((x) => x.MESSAGE_DATA.ACTION === 'RECALLED' && x.MESSAGE_DATA.TICKET === 'W4');
  await p.waitForSelector('.card[data-ticket="W4"][data-stage="NEW"]');
  await p.context().close();
});

test('the order-status board shows an order as preparing, then ready, then gone once served, without counting as a display', { timeout: 60000 }, async () => {
  const before = (await pos.call('STATUS')).MESSAGE_DATA.EXPO_DISPLAYS;
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(engine.url('kitchen/status'));
  await p.waitForFunction(() => window.__board && window.__board.lastSeq !== null);
  assert.equal((await pos.call('STATUS')).MESSAGE_DATA.EXPO_DISPLAYS, before, 'the board is not a kitchen display');
  await pos.call('SEND', ticket('B1'));
  await p.waitForSelector('#preparing li[data-ticket="B1"]');
  assert.equal(await p.textContent('#preparing li[data-ticket="B1"]'), 'O-B1', 'the order number, nothing else');
  await pos.call('BUMP', { TICKET: 'B1' });
  await pos.call('BUMP', { TICKET: 'B1' });
  await p.waitForSelector('#ready li[data-ticket="B1"]');
  assert.equal(await p.$('#preparing li[data-ticket="B1"]'), null);
  await pos.call('SERVE', { TICKET: 'B1' });
  await p.waitForSelector('#ready li[data-ticket="B1"]', { state: 'detached' });
  await context.close();
});

test('a tablet paired from the till kitchen window shows tickets and bumps as itself; revoked, it is refused', { timeout: 90000 }, async () => {
  const lanPort = await freePort();
  const e = await startEngine({ MODULES: 'base,order_kitchen', KITCHEN_LAN: 'on', KITCHEN_LAN_HOST: '127.0.0.1', KITCHEN_LAN_PORT: lanPort });
  const till = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const tablet = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  const p2 = await posClient(e.wsPort);
  try {
    for (const p of [till, tablet]) p.on('pageerror', (err) => console.error('page error:', err.message));
    // The till: the kitchen page with the admin token shows "Pair a tablet".
    await till.goto(e.url(`kitchen#token=${e.token}`));
    await till.click('#pair');
    await till.fill('#pair-name', 'tab-1');
    await till.click('#pair-form button[type=submit]');
    await till.waitForSelector('#pair-result .pair-code');
    const code = await till.textContent('#pair-result .pair-code');
    const url = await till.textContent('#pair-result .pair-url');
    assert.ok(await till.$('#pair-result .qr svg'), 'the QR code is shown');
    assert.equal(url, `http://127.0.0.1:${lanPort}/kitchen?pair=${code}`);
    // The tablet opens that address on the kitchen LAN listener.
    await tablet.goto(url);
    await tablet.waitForFunction(() => window.__kitchen && window.__kitchen.lastSeq !== null);
    assert.equal(new URL(tablet.url()).search, '', 'the used code is dropped from the address');
    await p2.call('SEND', { TICKET: 'LAN1', ORDER: 'O-LAN1', LINES: [{ LINE: '1', QTY: 1, NAME: 'Pulpo' }] });
    await tablet.waitForSelector('.card[data-ticket="LAN1"]');
    await tablet.click('.card[data-ticket="LAN1"] header');
    const bumped = await p2.event((x) => x.MESSAGE_DATA.ACTION === 'BUMPED' && x.MESSAGE_DATA.TICKET === 'LAN1');
    assert.equal(bumped.MESSAGE_DATA.BY, 'TAB-1', 'the paired name is its BY');
    // Reloaded, it is still paired.
    await tablet.reload();
    await tablet.waitForSelector('.card[data-ticket="LAN1"]');
    // Revoked on the till: its next action is refused.
    await till.waitForSelector('#pair-list li[data-display="TAB-1"]');
    await till.click('#pair-list li[data-display="TAB-1"] .revoke');
    await till.waitForSelector('#pair-list li[data-display="TAB-1"]', { state: 'detached' });
    const r = await tablet.evaluate(async () => {
      const m = await import('/js/page.js');
      const res = await fetch('/endpoint.json');
      const ep = await res.json();
      return new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/?token=${localStorage.getItem(m.DISPLAY_TOKEN_KEY)}`);
        ws.onopen = () => resolve(`open on ${ep.PORT}`);
        ws.onerror = () => resolve('refused');
      });
    });
    assert.equal(r, 'refused', 'a revoked tablet cannot connect again');
  } finally {
    p2.close();
    await till.context().close();
    await tablet.context().close();
    await e.stop();
  }
});
