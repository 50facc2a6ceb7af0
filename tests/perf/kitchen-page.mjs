// Measures the kitchen display *page* (issue 11's goal is "SEND acknowledged → ticket shown by a
// connected display page"): the headless engine with 200 open tickets, 10 display pages in
// headless Chromium (EXPO, every ticket on every page) and a POS client sending SENDs one at a
// time. Each page stamps, with a MutationObserver, when the new ticket's card is in its DOM; the
// baseline in the same run is a bare WebSocket client (Node, no page) stamping the SENT event.
// Both use the same wall clock (performance.timeOrigin + performance.now()). Prints Markdown.
//   node tests/perf/kitchen-page.mjs   (N=SENDs, PAGES=display pages, PISPAS_ENGINE_BIN=another build)

import { chromium } from 'playwright-core';
import { performance } from 'node:perf_hooks';
import { startEngine, WebSocket } from '../helpers.mjs';

const N = Number(process.env.N || 100);
const DISPLAYS = Number(process.env.PAGES || 10);
const OPEN = 200;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];
const now = () => performance.timeOrigin + performance.now();

async function client(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let n = 0;
  const replies = new Map();
  const seen = new Map();
  ws.on('message', (d) => {
    const at = now();
    const m = JSON.parse(String(d));
    if (m.MESSAGE_TYPE === 'RESPONSE') replies.get(m.MESSAGE_UUID)?.(m, at);
    else if (m.MESSAGE_DATA?.EVENT === 'KITCHEN' && m.MESSAGE_DATA.ACTION === 'SENT') seen.set(m.MESSAGE_DATA.TICKET, at);
  });
  return {
    seen,
    call(action, params = {}) {
      const id = `perf-${process.pid}-${++n}`;
      ws.send(JSON.stringify({ UUIDV4: id, TARGET: 'ORDER_KITCHEN', ACTION: action, ...params }));
      return new Promise((res) => replies.set(id, (m, at) => { replies.delete(id); res({ m, at }); }));
    },
    close() { ws.close(); },
  };
}

const ticket = (id) => ({ TICKET: id, TABLE: '4', ORDER: id, LINES: [{ LINE: '1', QTY: 1, NAME: 'Croquetas' }, { LINE: '2', QTY: 2, NAME: 'Caña' }] });

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99) };
}

const engine = await startEngine({ MODULES: 'base,order_kitchen', LOG_LEVEL: 'warn' });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const pos = await client(engine.wsPort);
  for (let i = 0; i < OPEN; i++) await pos.call('SEND', ticket(`OPEN-${i}`));
  const bare = await client(engine.wsPort);
  await bare.call('SUBSCRIBE', {});
  const pages = [];
  for (let i = 0; i < DISPLAYS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await context.newPage();
    await p.goto(engine.url(`kitchen?station=EXPO&name=PERF-${i}`));
    await p.waitForFunction((open) => window.__kitchen && window.__kitchen.lastSeq !== null && document.querySelectorAll('.card').length >= open, OPEN);
    await p.evaluate(() => {
      window.__shown = {};
      new MutationObserver(() => {
        const at = performance.timeOrigin + performance.now();
        for (const c of document.querySelectorAll('.card[data-ticket^="P-"]')) {
          if (!(c.dataset.ticket in window.__shown)) window.__shown[c.dataset.ticket] = at;
        }
      }).observe(document.getElementById('cards'), { childList: true, subtree: true });
    });
    pages.push(p);
  }
  const ackToPage = [];
  const ackToBare = [];
  for (let i = 0; i < N; i++) {
    const id = `P-${i}`;
    const { at: acked } = await pos.call('SEND', ticket(id));
    await Promise.all(pages.map((p) => p.waitForFunction((t) => t in window.__shown, id, { polling: 'raf' })));
    const shown = await Promise.all(pages.map((p) => p.evaluate((t) => window.__shown[t], id)));
    for (const s of shown) ackToPage.push(s - acked);
    ackToBare.push(bare.seen.get(id) - acked);
  }
  const page = stats(ackToPage);
  const base = stats(ackToBare);
  console.log(`| measurement (${OPEN} open tickets, ${DISPLAYS} display pages in headless Chromium, ${N} SENDs one at a time) | median | p99 | baseline (same run): the SENT event at a bare WebSocket client, median / p99 | goal |`);
  console.log('|---|---|---|---|---|');
  console.log(`| SEND acknowledged → the card in each page's DOM | ${page.median.toFixed(1)} ms | ${page.p99.toFixed(1)} ms | ${base.median.toFixed(1)} ms / ${base.p99.toFixed(1)} ms | median ≤ 20 ms, p99 ≤ 50 ms |`);
  pos.close();
  bare.close();
} finally {
  await browser.close();
  await engine.stop();
}
